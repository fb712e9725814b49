#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: the daemon: options, configuration, signals, listeners.

The daemon as operators run it: -t (config check) with the shipped and broken files, -t's
checks of what would stop a start (socket directory, socket in use, group, ports), unix_group,
--help, --version, --print-config against conf/norikv-sidecar.conf, SIGTERM (idle clients,
draining operations in flight), SIGHUP (re-reading -c), sidecar.port and sidecar.timeout,
a second sidecar on a socket in use, and README.md's command table against --commands.

Usage: python3 tests/e2e/test_daemon.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time

from harness import (Conn, E, Fail, REDIS_CLI, SIDECAR, SRCDIR, Sidecar, _procs, check, cli_ok,
                     encode, eq, key, reserve_ports, run, spawn, stop, test, wait_for, main)


def _conf_text():
    with open(os.path.join(SRCDIR, "conf", "norikv-sidecar.conf")) as f:
        return f.read()


MIB = 1024 * 1024


@test
def daemon_config_check():
    good = os.path.join(E.tmp, "good.conf")
    text = _conf_text()
    with open(good, "w") as f:
        f.write(text)
    # the shipped file's socket directory is the service's (/run/norikv-sidecar): -t
    # checks it, so the socket goes where this test may create one
    here = "--sidecar.listen=" + os.path.join(E.tmp, "check.sock")
    r = run([SIDECAR, "-t", "-c", good, here])
    check(r.rc == 0 and "can start" in r.out,
          "norikv-sidecar -t with the shipped file to exit 0 and say it can start", r)
    lines = text.split("\n")
    ln = next(i for i, l in enumerate(lines) if re.match(r"max_clients\s*=", l)) + 1
    for bad_line, word in (("max_clients = lots", "lots"), ("max_clientz = 5", "max_clientz")):
        bad = os.path.join(E.tmp, "bad.conf")
        bl = list(lines)
        bl[ln - 1] = bad_line
        with open(bad, "w") as f:
            f.write("\n".join(bl))
        r = run([SIDECAR, "-t", "-c", bad, here])
        msg = r.out + r.err
        check(r.rc != 0, "-t with %r to exit non-zero" % bad_line, r)
        check("%s:%d" % (bad, ln) in msg and word in msg,
              "the message to name %s:%d and %r" % (bad, ln, word), msg)
    r = run([SIDECAR, "-t", "--sidecar.max_clients=0"])
    check(r.rc != 0 and "max_clients" in r.out + r.err,
          "-t --sidecar.max_clients=0 to fail naming max_clients", r)


def _preflight_fails(args, words, what):
    r = run([SIDECAR, "-t"] + args)
    msg = r.out + r.err
    check(r.rc == 1 and "would not start" in msg and all(w in msg for w in words),
          "-t %s to exit 1 saying %r" % (what, words), r)


@test
def daemon_preflight():
    """-t finds what would stop a start, as the start itself would."""
    missing = os.path.join(E.tmp, "no-such-dir", "n.sock")
    _preflight_fails(["--sidecar.listen=" + missing],
                     [os.path.dirname(missing), "No such file or directory"],
                     "with a missing socket directory")
    r = run([SIDECAR, "--sidecar.listen=" + missing, "--cluster.nodes=" + E.dn.nodes], timeout=15)
    check(r.rc != 0 and not r.timed_out, "the sidecar itself to refuse to start there too", r)
    plain = os.path.join(E.tmp, "plain-file")
    with open(plain, "w") as f:
        f.write("keep me\n")
    _preflight_fails(["--sidecar.listen=" + plain], [plain, "not a socket"],
                     "with a regular file at the socket path")
    r = run([SIDECAR, "--sidecar.listen=" + plain, "--cluster.nodes=" + E.dn.nodes], timeout=15)
    check(r.rc != 0 and not r.timed_out and "not a socket" in r.err,
          "the sidecar to refuse a regular file at the socket path", r)
    with open(plain) as f:
        eq(f.read(), "keep me\n", "the regular file, left as it was")
    _preflight_fails(["--sidecar.listen=" + E.sc.sock], [E.sc.sock, "another process"],
                     "on a socket a running sidecar serves")
    _preflight_fails(["--sidecar.listen=" + os.path.join(E.tmp, "g.sock"),
                      "--sidecar.unix_group=no-such-group-here"],
                     ["unix_group", "no-such-group-here"], "with an unknown group")
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        _preflight_fails(["--sidecar.listen=" + os.path.join(E.tmp, "p.sock"),
                          "--sidecar.port=%d" % port],
                         ["sidecar.port", "127.0.0.1:%d" % port, "in use"], "on a port in use")
        _preflight_fails(["--sidecar.listen=" + os.path.join(E.tmp, "p.sock"),
                          "--metrics.listen=127.0.0.1:%d" % port],
                         ["metrics.listen", "127.0.0.1:%d" % port, "in use"],
                         "with the metrics listener on a port in use")
    finally:
        busy.close()
    _preflight_fails(["--sidecar.listen=" + os.path.join(E.tmp, "m.sock"),
                      "--metrics.listen=" + os.path.join(missing, "metrics.sock")],
                     ["metrics.listen", os.path.dirname(missing)],
                     "with the metrics socket's directory missing")
    if os.geteuid() != 0:
        ro = os.path.join(E.tmp, "read-only")
        os.mkdir(ro, 0o555)
        _preflight_fails(["--sidecar.listen=" + os.path.join(ro, "n.sock")], [ro],
                         "with a socket directory it cannot write")
    r = run([SIDECAR, "-t", "--sidecar.listen=" + os.path.join(E.tmp, "ok.sock"),
             "--sidecar.unix_group=%d" % os.getegid()])
    check(r.rc == 0 and "can start" in r.out, "-t with its own group to pass", r)


@test
def daemon_unix_group():
    """unix_group gives the socket file to a group; unix_mode still applies."""
    if os.geteuid() == 0:
        gid = 4242  # root may give a file to any group
    else:
        others = [g for g in os.getgroups() if g != os.getegid()]
        if not others:
            print("  (skipped: not root and in no supplementary group)")
            return
        gid = others[0]
    sc = Sidecar("grouped", E.dn, "--sidecar.unix_group=%d" % gid, "--sidecar.unix_mode=0660")
    try:
        st = os.stat(sc.sock)
        eq(st.st_gid, gid, "the socket's group")
        eq(st.st_mode & 0o777, 0o660, "the socket's mode")
        cli_ok(sc.cli("PING"), "PONG\n", "PING through the grouped socket")
    finally:
        stop(sc.proc)


@test
def daemon_help_version():
    r = run([SIDECAR, "--help"])
    check(r.rc == 0 and "Usage: norikv-sidecar" in r.out, "--help: exit 0 and usage", r)
    r = run([SIDECAR, "--version"])
    check(r.rc == 0 and re.match(r"norikv-sidecar \d+\.\d+", r.out), "--version: exit 0", r)
    r = run([SIDECAR, "--no-such-option"])
    check(r.rc != 0, "an unknown option to exit non-zero", r)


@test
def daemon_print_config_is_conf_file():
    r = run([SIDECAR, "--print-config"])
    check(r.rc == 0, "--print-config to exit 0", r)
    want = _conf_text()
    if r.out != want:
        a, b = r.out.split("\n"), want.split("\n")
        i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        raise Fail("--print-config to equal conf/norikv-sidecar.conf; first difference at line "
                   "%d: %r vs %r (%d vs %d lines)" % (i + 1, a[i] if i < len(a) else None,
                                                     b[i] if i < len(b) else None, len(a), len(b)))


@test
def daemon_sigterm_with_idle_client():
    t = Sidecar("sigterm-sidecar", E.dn)
    with t.conn() as c:
        eq(c.cmd("PING"), "PONG", "PING")
        t0 = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        try:
            rc = t.proc.wait(6)
        except subprocess.TimeoutExpired:
            stop(t.proc, signal.SIGKILL)
            raise Fail("the sidecar to exit within 6 s of SIGTERM with an idle client; it did not")
        took = time.monotonic() - t0
        _procs.remove(t.proc)
        eq(rc, 0, "exit status after SIGTERM (took %.2f s)" % took)
        check(not os.path.exists(t.sock), "the socket file removed", t.sock)
        try:
            eq(c.rest_until_close(2), b"", "the idle client's connection closed")
        except OSError:
            pass


@test
def daemon_sigterm_drains_in_flight():
    t = Sidecar("drain-sidecar", E.dn)
    k = key("drain")
    try:
        with t.conn() as c:
            eq(c.cmd("SET", k, "drained"), "OK", "SET")
            E.dn.control("latency 0 1200")
            c.send(encode("GET", k))
            time.sleep(0.3)  # the GET is held by the cluster
            t0 = time.monotonic()
            t.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            c.send(encode("GET", k) + encode("PING"))  # sent during the drain
            got = c.rest_until_close(8)
            eq(got, b"$7\r\ndrained\r\n-UNAVAILABLE the sidecar is shutting down\r\n+PONG\r\n",
               "the reply to the GET in flight at SIGTERM, UNAVAILABLE for a GET sent during the "
               "drain, PONG, then close")
            rc = t.proc.wait(8)
            _procs.remove(t.proc)
            eq(rc, 0, "exit status after the drain (%.2f s)" % (time.monotonic() - t0))
    finally:
        E.dn.control("clear")
        stop(t.proc)


@test
def daemon_sighup_reloads():
    conf = os.path.join(E.tmp, "hup.conf")
    sock = os.path.join(E.tmp, "hup.sock")

    def write(password):
        with open(conf, "w") as f:
            f.write("[sidecar]\nlisten = %s\nrequirepass = %s\n[cluster]\nnodes = %s\n" %
                    (sock, password, E.dn.nodes))
    write("")
    p = spawn([SIDECAR, "-c", conf], os.path.join(E.tmp, "hup.log"))
    try:
        def serves():
            with Conn(sock) as c:
                return c.cmd("PING") == "PONG"
        wait_for(serves, 15, "the sidecar with -c to serve")
        write("hup-secret")
        p.send_signal(signal.SIGHUP)

        def needs_auth():
            with Conn(sock) as c:
                return c.cmd("GET", "k") == "NOAUTH Authentication required."
        wait_for(needs_auth, 5, "requirepass from the re-read file (SIGHUP) to apply")
        with Conn(sock) as c:
            eq(c.cmd("AUTH", "hup-secret"), "OK", "AUTH with the new password")
        check(p.poll() is None, "the sidecar to keep running after SIGHUP", p.returncode)
    finally:
        stop(p)


@test
def daemon_tcp_port_and_idle_timeout():
    port = reserve_ports(1)
    t = Sidecar("tcp-sidecar", E.dn, "--sidecar.port=%d" % port, "--sidecar.timeout=1")
    try:
        r = run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), "PING"])
        cli_ok(r, "PONG\n", "redis-cli -h 127.0.0.1 -p <sidecar.port> PING")
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        with s:
            s.sendall(b"PING\r\n")
            eq(s.recv(100), b"+PONG\r\n", "PING over TCP")
        with t.conn() as c:
            eq(c.cmd("PING"), "PONG", "PING")
            t0 = time.monotonic()
            got = c.rest_until_close(6)
            took = time.monotonic() - t0
        eq(got, b"", "nothing sent to the idle client before closing")
        check(0.9 <= took <= 4.0, "an idle client closed 1 s (sidecar.timeout=1) after its last "
              "command, within 4 s", "%.2f s" % took)
        with t.conn() as c:  # a busy client is not cut
            for _ in range(6):
                eq(c.cmd("PING"), "PONG", "PING every 0.4 s")
                time.sleep(0.4)
        with t.conn() as c:  # nor a subscriber, as in Redis
            eq(c.cmd("SUBSCRIBE", "idle-channel"), [b"subscribe", b"idle-channel", 1],
               "SUBSCRIBE")
            time.sleep(2.5)
            eq(c.cmd("PING"), [b"pong", b""], "PING from a subscriber idle 2.5 s")
        # nor a client still reading a long reply slowly: writing to it is activity
        k = key("idle", "big")
        with t.conn() as c:
            eq(c.cmd("SET", k, b"x" * MIB), "OK", "SET of 1 MiB")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(10)
        s.connect(t.sock)
        with s:
            s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(k), k.encode()) * 3)
            want, got, t0 = 3 * (len(b"$%d\r\n" % MIB) + MIB + 2), 0, time.monotonic()
            while got < want:
                d = s.recv(65536)
                if not d:
                    break
                got += len(d)
                time.sleep(0.05)
            took = time.monotonic() - t0
        eq(got, want, "bytes of three 1 MiB replies read slowly over %.1f s" % took)
        check(took > 1.5, "the slow read to last longer than the timeout (or it tests nothing)",
              "%.1f s" % took)
    finally:
        stop(t.proc)


@test
def daemon_second_sidecar_refused():
    args = [SIDECAR, "--sidecar.listen=" + E.sc.sock, "--cluster.nodes=" + E.dn.nodes]
    r = run(args, timeout=15)
    check(not r.timed_out and r.rc != 0, "a second sidecar on the same socket to exit non-zero", r)
    check(E.sc.sock in r.out + r.err, "its message to name the socket", r)
    check(os.path.exists(E.sc.sock), "the first sidecar's socket to stay", E.sc.sock)
    cli_ok(E.sc.cli("PING"), "PONG\n", "PING to the first sidecar")


@test
def daemon_readme_command_table():
    with open(os.path.join(SRCDIR, "README.md")) as f:
        readme = f.read()
    m = re.search(r"<!-- commands -->\n(.*?)<!-- /commands -->", readme, re.S)
    if not m:
        raise Fail("README.md to hold the command table between '<!-- commands -->' and "
                   "'<!-- /commands -->'; it has no such markers")
    r = run([SIDECAR, "--commands"])
    check(r.rc == 0, "--commands to exit 0", r)
    if m.group(1) != r.out:
        a, b = m.group(1).split("\n"), r.out.split("\n")
        diff = [(x, y) for x, y in zip(a, b) if x != y][:3]
        raise Fail("README's command table to equal norikv-sidecar --commands; differs: %r "
                   "(%d vs %d lines)" % (diff, len(a), len(b)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
