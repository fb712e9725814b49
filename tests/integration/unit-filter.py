#!/usr/bin/python3
"""Runs a command under a systemd unit's system-call filter, as systemd would, without
systemd: the unit's SystemCallArchitectures=, SystemCallFilter= and
SystemCallErrorNumber= lines are read and applied with libseccomp (Debian:
python3-seccomp), then the command is exec'd.

What systemd does with those lines (systemd.exec(5)): the first SystemCallFilter= decides
the kind; an allow-list (no "~") starts from @default, the calls every process needs, and
refuses the rest; each later line, in order, adds its calls to the list or, with "~",
takes them out. A @group is what `systemd-analyze syscall-filter @group` lists, nested
groups expanded. A refused call fails with SystemCallErrorNumber= (the process is killed
when there is none); SystemCallArchitectures=native lets only the machine's own ABI in.
Calls that this machine's libseccomp does not know are left out, as systemd leaves them.
Anything else in those lines (other architectures, a call's own errno) is refused: the
helper would not be doing what systemd does.

Usage: unit-filter.py UNIT-FILE COMMAND [ARG ...]; exits 2 when it cannot.
"""

import errno
import os
import subprocess
import sys

try:
    import seccomp
except ImportError:
    print("unit-filter.py: python3-seccomp is not installed (packaging/install-deps installs it)",
          file=sys.stderr)
    sys.exit(2)


def die(msg):
    print("unit-filter.py: " + msg, file=sys.stderr)
    sys.exit(2)


def settings(unit):
    """(filter lines as [(invert, [names])], errno name or None, architectures)"""
    filters, err, archs = [], None, None
    with open(unit) as f:
        for line in f:
            key, sep, value = line.strip().partition("=")
            if not sep:
                continue
            if key == "SystemCallFilter":
                value = value.strip()
                invert = value.startswith("~")
                filters.append((invert, value.lstrip("~").split()))
            elif key == "SystemCallErrorNumber":
                err = value.strip()
            elif key == "SystemCallArchitectures":
                archs = value.split()
    return filters, err, archs


_groups = {}


def expand(name):
    """The system calls a name stands for: itself, or a group's members, recursively."""
    if not name.startswith("@"):
        if ":" in name:
            die("a call's own errno (%s) is not done here" % name)
        return {name}
    if name not in _groups:
        out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if out.returncode != 0:
            die("systemd-analyze syscall-filter %s: %s" % (name, out.stderr.strip()))
        calls = set()
        for line in out.stdout.splitlines()[1:]:
            word = line.strip()
            if word and not word.startswith("#"):
                calls |= expand(word)
        _groups[name] = calls
    return _groups[name]


def main(argv):
    if len(argv) < 3:
        die("usage: unit-filter.py UNIT-FILE COMMAND [ARG ...]")
    filters, err, archs = settings(argv[1])
    if not filters:
        die("%s has no SystemCallFilter=" % argv[1])
    if archs not in (None, ["native"]):
        die("SystemCallArchitectures=%s: only native is done here" % " ".join(archs))
    allow_list = not filters[0][0]
    calls = set(expand("@default")) if allow_list else set()
    for invert, names in filters:
        for name in names:
            if invert == allow_list:  # "~" on an allow-list, or a deny-list's plain entry
                calls -= expand(name)
            else:
                calls |= expand(name)
    if err is None:
        refused = seccomp.KILL_PROCESS
    elif hasattr(errno, err):
        refused = seccomp.ERRNO(getattr(errno, err))
    else:
        die("SystemCallErrorNumber=%s: not an errno name" % err)
    # only the machine's own ABI: libseccomp's filter holds just the native architecture,
    # and a call from another ABI is killed
    f = seccomp.SyscallFilter(refused if allow_list else seccomp.ALLOW)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    for call in sorted(calls):
        try:
            f.add_rule(seccomp.ALLOW if allow_list else refused, call)
        except (ValueError, RuntimeError, OSError):
            pass  # not a call of this machine's libseccomp or architecture
    f.load()
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv)
