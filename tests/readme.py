#!/usr/bin/python3
"""The README's examples, run as a reader would run them, one after another.

The quick start: scripts/run-local, then its redis-cli lines, and those of "Vector search"
against the sidecar it runs. Then "norikv-devnode": the devnode started as the README
starts it, the "Control socket" example through socat, and every line of the norikv-cli
example ("norikv-cli and the cluster client") against it. What changes is only where
things are: the ports (9001 and on), the two sockets in /tmp and the programs' paths are
this run's, and norikv-cli's `--nodes ...` is the devnode's three addresses, as the README
says. Each line must exit 0 and print no error; a trailing comment is what its first line
of output must be ("# alice"; "(integer) " is what redis-cli adds on a terminal), except
a comment that starts "or:", which names another command. Prints one line per failed
check; exits 0 or 1.

Usage: python3 tests/readme.py (from the build directory; srcdir, NORIKV_DEVNODE,
NORIKV_SIDECAR and NORIKV_CLI as make check sets them).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRCDIR = os.environ.get("srcdir", ".")
DEVNODE = os.path.abspath(os.environ.get("NORIKV_DEVNODE", "./norikv-devnode"))
SIDECAR = os.path.abspath(os.environ.get("NORIKV_SIDECAR", "./norikv-sidecar"))
CLI = os.path.abspath(os.environ.get("NORIKV_CLI", "./norikv-cli"))

failures = []
passed = 0


def check(cond, what, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL %s%s" % (what, ": %s" % (detail,) if detail != "" else ""))
    return cond


def sections(path):
    """{heading: [the text of each ```sh block under it]}"""
    out, heading, block = {}, "", None
    with open(path) as f:
        for line in f:
            if block is not None:
                if line.startswith("```"):
                    out.setdefault(heading, []).append("".join(block))
                    block = None
                else:
                    block.append(line)
            elif line.startswith("```sh"):
                block = []
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
    return out


def free_base(count):
    """A base port with count free ports after it on 127.0.0.1."""
    for base in range(20000 + os.getpid() % 9000, 32000, 7):
        ok = True
        for p in range(base, base + count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return base
    raise RuntimeError("no free ports")


class Place:
    """Where this run puts what the README puts at fixed places."""

    def __init__(self, tmp, base):
        self.base = base
        self.nodes = ",".join("127.0.0.1:%d" % (base + i) for i in range(3))
        self.sidecar_sock = os.path.join(tmp, "norikv-sidecar.sock")
        self.control = os.path.join(tmp, "norikv-devnode.sock")

    def apply(self, line):
        line = line.replace("127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003", self.nodes)
        line = line.replace("--nodes ...", "--nodes " + self.nodes)
        line = line.replace("--base-port 9001", "--base-port %d" % self.base)
        line = line.replace("/tmp/norikv-sidecar.sock", self.sidecar_sock)
        line = line.replace("/tmp/norikv-devnode.sock", self.control)
        line = re.sub(r"(^|&& )\./norikv-devnode", r"\1" + DEVNODE, line)
        line = re.sub(r"(^|&& )\./norikv-cli", r"\1" + CLI, line)
        return line


def expected(line):
    """The command of a README line and the output its comment promises (None: none)."""
    m = re.match(r"^(.*?)\s+#\s*(.*)$", line)
    if not m:
        return line.strip(), None
    cmd, comment = m.group(1).strip(), m.group(2).strip()
    if comment.startswith("or:"):
        return cmd, None
    return cmd, re.sub(r"^\(integer\) ", "", comment)


def run_line(place, line, what):
    cmd, want = expected(line)
    try:
        r = subprocess.run(["sh", "-c", place.apply(cmd)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        check(False, "%s: %s finishes within 120 s" % (what, cmd))
        return subprocess.CompletedProcess(cmd, -1, "", "")
    first = r.stdout.splitlines()[0] if r.stdout else ""
    error = re.match(r"^(\(error\) )?(ERR|[A-Z]{4,}) ", first) is not None
    if check(r.returncode == 0 and not error, "%s: %s exits 0 with no error" % (what, cmd),
             "exit %d, stdout %r, stderr %r" % (r.returncode, r.stdout[-300:], r.stderr[-300:])):
        if want is not None:
            check(first == want, "%s: %s prints %r" % (what, cmd, want), repr(r.stdout[-300:]))
    return r


def lines(block):
    return [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def pings(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(path)
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def quick_start(readme, tmp):
    """scripts/run-local, then the redis-cli examples against its sidecar."""
    place = Place(tmp, free_base(3))
    env = dict(os.environ, NORIKV_SOCKET=place.sidecar_sock, NORIKV_BASE_PORT=str(place.base),
               NORIKV_CONTROL=os.path.join(tmp, "run-local-ctl.sock"), NORIKV_DEVNODE=DEVNODE,
               NORIKV_SIDECAR=SIDECAR, NORIKV_CLI=CLI)
    log = open(os.path.join(tmp, "run-local.log"), "w")
    p = subprocess.Popen([os.path.join(SRCDIR, "scripts", "run-local")], env=env,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        if not check(wait_for(lambda: pings(place.sidecar_sock), 30),
                     "scripts/run-local serves the sidecar's socket within 30 s",
                     open(log.name).read()[-800:]):
            return
        blocks = readme.get("Quick start (Debian 12)", []) + readme.get("Vector search", [])
        examples = [ln for b in blocks for ln in lines(b) if ln.startswith("redis-cli ")]
        check(len(examples) >= 7, "the quick start and Vector search hold redis-cli examples",
              examples)
        for line in examples:
            run_line(place, line, "quick start")
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()


def devnode_and_cli(readme, tmp):
    """The devnode as "norikv-devnode" starts it, its control socket, then norikv-cli."""
    place = Place(tmp, free_base(3))
    start = [ln for ln in lines("".join(readme.get("norikv-devnode", [])))
             if ln.startswith("./norikv-devnode")]
    if not check(len(start) == 1, "norikv-devnode's section starts one devnode", start):
        return
    log = open(os.path.join(tmp, "devnode.log"), "w")
    p = subprocess.Popen(["sh", "-c", "exec " + place.apply(start[0])], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT)
    try:
        if not check(wait_for(lambda: open(log.name).read().count("ready on") == 3 and
                              os.path.exists(place.control), 15),
                     "the README's devnode to start", open(log.name).read()[-800:]):
            return
        control = lines("".join(readme.get("Control socket", [])))
        check(len(control) == 1 and "socat" in control[0], "one socat example", control)
        if shutil.which("socat") is None:
            check(False, "socat to be installed (Debian: socat; packaging/install-deps)")
        else:
            for line in control:
                r = run_line(place, line, "control socket")
                check(r.stdout.startswith("OK"), "the control socket answers %s with OK" % line,
                      repr(r.stdout))
        examples = lines("".join(readme.get("norikv-cli and the cluster client", [])))
        check(len(examples) >= 6, "norikv-cli's examples", examples)
        for line in examples:
            run_line(place, line, "norikv-cli")
    finally:
        stop(p)
        log.close()


def main():
    readme = sections(os.path.join(SRCDIR, "README.md"))
    tmp = tempfile.mkdtemp(prefix="norikv-readme.")
    try:
        quick_start(readme, tmp)
        devnode_and_cli(readme, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
