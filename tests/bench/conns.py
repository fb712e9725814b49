#!/usr/bin/env python3
"""Memory per connection (a benchmark helper, not a test).

conns.py SOCKET PID N [VALUE_BYTES]

Reads the RSS of process PID (the server behind the Unix socket SOCKET) before anything,
with N idle connections open (each has answered a PING), after one SET of VALUE_BYTES
(default 4096) on every connection, and 2 s after all N have closed (time for a
housekeeping timer to give memory back). Prints one line:

  conns: n=N before_kib=.. idle_kib=.. burst_kib=.. closed_kib=..

Sockets are plain blocking ones driven one after another: the figures are about memory,
not speed.
"""
import resource
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def read_reply(s):
    """Read one simple reply line (+OK / +PONG / -ERR ...); enough for PING and SET."""
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed by the server")
        buf += chunk
    return buf


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    path, pid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 4096
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 64:
        sys.exit(f"conns.py: RLIMIT_NOFILE hard limit {hard} is below {n + 64}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 64), hard))

    before = rss_kib(pid)
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(path)
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        if read_reply(s) != b"+PONG\r\n":
            sys.exit("conns.py: PING did not answer PONG")
        socks.append(s)
    time.sleep(0.5)
    idle = rss_kib(pid)

    value = b"v" * size
    for i, s in enumerate(socks):
        key = b"conns:%d" % i
        s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, size, value))
        reply = read_reply(s)
        if reply != b"+OK\r\n":
            sys.exit(f"conns.py: SET answered {reply!r}")
    time.sleep(0.5)
    burst = rss_kib(pid)

    for s in socks:
        s.close()
    time.sleep(2.0)
    closed = rss_kib(pid)
    print(f"conns: n={n} before_kib={before} idle_kib={idle} burst_kib={burst} closed_kib={closed}")


if __name__ == "__main__":
    main()
