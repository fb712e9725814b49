#!/bin/sh
# The sidecar under systemd's protocols, without systemd running: the notify socket gets
# READY=1, STATUS=, RELOADING=1 on SIGHUP and STOPPING=1 on SIGTERM, and WATCHDOG=1 only
# when WatchdogSec= asks for it; with socket activation (systemd-socket-activate) it serves
# the socket it is handed and leaves the socket file alone when it exits. And the units
# as shipped: systemd-analyze verify finds nothing, systemd-analyze security scores each
# service at 2.0 or less, each service's system-call filter lets the sidecar give its
# socket a unix_group, the sysusers.d and tmpfiles.d entries make the user and the
# socket directory in a throwaway root. Loopback and Unix sockets only.
command -v systemd-socket-activate >/dev/null 2>&1 ||
    { echo "systemd-socket-activate not installed (Debian: systemd): skipped"; exit 77; }
command -v redis-cli >/dev/null 2>&1 || { echo "redis-cli not installed: skipped"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
srcdir=${srcdir:-.}
dir=$(mktemp -d /tmp/norikv-systemd.XXXXXX)
devnode= activator= filtered=
cleanup() {
    [ -n "$activator" ] && kill "$activator" 2>/dev/null
    [ -n "$filtered" ] && kill "$filtered" 2>/dev/null
    [ -n "$devnode" ] && kill "$devnode" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

for attempt in 1 2 3 4 5 6 7 8 9 10; do
    base=$(( (($$ * 17 + attempt * 7919) % 30000) + 20000 ))
    "$DEVNODE" --nodes 1 --base-port "$base" > "$dir/devnode.out" 2>&1 &
    devnode=$!
    for i in $(seq 1 100); do
        grep -q 'ready on' "$dir/devnode.out" && break
        kill -0 "$devnode" 2>/dev/null || break
        sleep 0.05
    done
    grep -q 'ready on' "$dir/devnode.out" && break
    wait "$devnode" 2>/dev/null
    devnode=
done
[ -n "$devnode" ] || { echo "devnode did not start"; exit 1; }
nodes=127.0.0.1:$base

pass=0 fail=0
verdict() { # ok? name detail
    if [ "$1" -eq 0 ]; then pass=$((pass + 1)); else
        echo "FAIL $2: $3"
        fail=$((fail + 1))
    fi
}

# 1. sd_notify: a datagram socket collects what the sidecar says, across a reload and a stop.
timeout 60 "$PY" - "$SIDECAR" "$dir" "$nodes" > "$dir/notify.out" 2>&1 <<'PYEOF'
import os, signal, socket, subprocess, sys, time
sidecar, d, nodes = sys.argv[1:4]
path = os.path.join(d, "notify.sock")
rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
rx.bind(path)
rx.settimeout(10)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([sidecar, "--sidecar.listen=" + os.path.join(d, "n.sock"),
                      "--cluster.nodes=" + nodes], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seen = []
def until(word):
    while True:
        msg = rx.recv(4096).decode()
        seen.append(msg)
        if word in msg:
            return msg
try:
    ready = until("READY=1")
    print("ready", "STATUS=" in ready)
    until("STATUS=")              # the once-a-second status line
    p.send_signal(signal.SIGHUP)
    until("RELOADING=1")
    print("reloading")
    until("READY=1")
    print("ready-again")
    p.send_signal(signal.SIGTERM)
    until("STOPPING=1")
    print("stopping")
    print("exit", p.wait(timeout=10))
    print("watchdog unasked", sum("WATCHDOG=1" in m for m in seen))
finally:
    if p.poll() is None:
        p.kill()
# WatchdogSec=0.4s: WATCHDOG=1 every 0.2 s from the loop
env["WATCHDOG_USEC"] = "400000"
p = subprocess.Popen([sidecar, "--sidecar.listen=" + os.path.join(d, "w.sock"),
                      "--cluster.nodes=" + nodes], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    pings = 0
    while pings < 5:
        pings += "WATCHDOG=1" in rx.recv(4096).decode()
    print("watchdog pings", pings)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
finally:
    if p.poll() is None:
        p.kill()
PYEOF
for word in "ready True" reloading ready-again stopping "exit 0" "watchdog unasked 0" \
    "watchdog pings 5"; do
    grep -q "^$word\$" "$dir/notify.out"
    verdict $? "notify $word" "$(cat "$dir/notify.out")"
done

# 2. socket activation: systemd-socket-activate holds the socket and starts the sidecar on
# the first connection, handing it over (fd 3).
act=$dir/act.sock
systemd-socket-activate -l "$act" "$SIDECAR" --sidecar.listen="$dir/unused.sock" \
    --cluster.nodes="$nodes" > "$dir/activate.out" 2>&1 &
activator=$!
for i in $(seq 1 100); do [ -S "$act" ] && break; sleep 0.05; done
got=$(timeout 20 redis-cli -s "$act" ping 2>&1)
[ "$got" = PONG ]
verdict $? "activated ping" "$got"
got=$(timeout 20 redis-cli -s "$act" set activated yes 2>&1; timeout 20 redis-cli -s "$act" get activated 2>&1)
[ "$got" = "OK
yes" ]
verdict $? "activated set/get" "$got"
[ ! -e "$dir/unused.sock" ]
verdict $? "activated binds nothing itself" "$(ls "$dir")"
grep -q "serving the socket systemd passed" "$dir/activate.out"
verdict $? "activated says so" "$(cat "$dir/activate.out")"
kill -TERM "$activator" 2>/dev/null
wait "$activator" 2>/dev/null
activator=

# 3. the units as shipped (ExecStart pointed at the binary under test, which verify checks)
units=$dir/units
mkdir -p "$units"
sidecar_abs=$(cd "$(dirname "$SIDECAR")" && pwd)/$(basename "$SIDECAR")
for unit in norikv-sidecar.service norikv-sidecar@.service; do
    sed -e "s|^ExecStart=[^ ]*|ExecStart=$sidecar_abs|" "packaging/systemd/$unit" > "$units/$unit"
done
cp "$srcdir/packaging/systemd/norikv-sidecar.socket" "$units/"
got=$(cd "$units" && systemd-analyze verify --man=no norikv-sidecar.service \
    norikv-sidecar.socket norikv-sidecar@.service norikv-sidecar@test.service 2>&1)
verdict $? "systemd-analyze verify" "$got"
[ -z "$got" ]
verdict $? "systemd-analyze verify says nothing" "$got"
for unit in norikv-sidecar.service norikv-sidecar@test.service; do
    out=$(systemd-analyze security --offline=true --no-pager "$units/$unit" 2>&1)
    score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "$unit: systemd-analyze security: $score"
    [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
    verdict $? "systemd-analyze security $unit <= 2.0" "$score: $(printf '%s\n' "$out" | grep '✗' | head -20)"
done
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$units/norikv-sidecar.service" &&
    grep -q '^Type=notify$' "$units/norikv-sidecar.service" &&
    grep -q '^WatchdogSec=' "$units/norikv-sidecar.service"
verdict $? "the service is Type=notify with a watchdog and reloads with SIGHUP" "$(cat "$units/norikv-sidecar.service")"
# the socket unit and the sidecar's default agree on the socket's path
default_listen=$("$SIDECAR" --print-config | sed -n 's/^listen = //p')
grep -q "^ListenStream=$default_listen\$" "$units/norikv-sidecar.socket"
verdict $? "the socket unit listens on the default sidecar.listen ($default_listen)" \
    "$(grep ListenStream "$units/norikv-sidecar.socket")"
grep -q "^RuntimeDirectory=$(basename "$(dirname "$default_listen")")\$" "$units/norikv-sidecar.service"
verdict $? "the service's RuntimeDirectory= holds the default socket" \
    "$(grep RuntimeDirectory "$units/norikv-sidecar.service")"

# 4. the sidecar under each service's own system-call filter (SystemCallFilter=,
# SystemCallArchitectures=, SystemCallErrorNumber= applied with libseccomp as systemd
# would: tests/integration/unit-filter.py) with unix_group set: it starts and the socket
# has the group, which chown() gives it. First, that the filter is on: chroot(), which the
# units refuse (~@privileged), fails.
filter=$srcdir/tests/integration/unit-filter.py
if [ "$(id -u)" -eq 0 ]; then
    group=$(getent group nogroup daemon | head -n 1 | cut -d: -f1)
else # a group of ours other than the one a new file gets, if there is one
    group=$(id -gn)
    for g in $(id -Gn); do [ "$g" != "$(id -gn)" ] && group=$g; done
fi
for unit in norikv-sidecar.service norikv-sidecar@.service; do
    got=$("$PY" "$filter" "$units/$unit" chroot / true 2>&1)
    [ $? -ne 0 ] && printf '%s\n' "$got" | grep -q "Operation not permitted"
    verdict $? "under $unit's filter chroot fails EPERM" "$got"
    sock=$dir/filtered.sock
    # LeakSanitizer stops the world with ptrace at exit, which the filter rightly forbids:
    # a sanitizer build runs here without it (its leaks are checked everywhere else)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        "$PY" "$filter" "$units/$unit" "$SIDECAR" --sidecar.listen="$sock" \
        --sidecar.unix_group="$group" --cluster.nodes="$nodes" > "$dir/filtered.out" 2>&1 &
    filtered=$!
    got=
    for i in $(seq 1 100); do
        [ -S "$sock" ] && got=$(timeout 10 redis-cli -s "$sock" ping 2>&1) && break
        kill -0 "$filtered" 2>/dev/null || break
        sleep 0.05
    done
    [ "$got" = PONG ]
    verdict $? "under $unit's filter with unix_group=$group the sidecar serves" \
        "$got; $(cat "$dir/filtered.out")"
    [ "$(stat -c %G "$sock" 2>&1)" = "$group" ]
    verdict $? "under $unit's filter the socket has group $group" "$(stat -c %G "$sock" 2>&1)"
    kill -TERM "$filtered" 2>/dev/null
    wait "$filtered"
    verdict $? "under $unit's filter the sidecar exits 0 on SIGTERM" "$(cat "$dir/filtered.out")"
    filtered=
done

# 5. sysusers.d and tmpfiles.d in a throwaway root: the user and group norikv, and
# /run/norikv-sidecar owned by them
root=$dir/root
mkdir -p "$root/etc"
systemd-sysusers --root="$root" - < "$srcdir/packaging/systemd/sysusers.d/norikv-sidecar.conf" \
    > "$dir/sysusers.out" 2>&1
verdict $? "systemd-sysusers" "$(cat "$dir/sysusers.out")"
uid=$(awk -F: '$1 == "norikv" { print $3 }' "$root/etc/passwd" 2>/dev/null)
gid=$(awk -F: '$1 == "norikv" { print $3 }' "$root/etc/group" 2>/dev/null)
[ -n "$uid" ] && [ -n "$gid" ]
verdict $? "sysusers creates user and group norikv" "$(cat "$root/etc/passwd" "$root/etc/group")"
systemd-tmpfiles --root="$root" --create - < "$srcdir/packaging/systemd/tmpfiles.d/norikv-sidecar.conf" \
    > "$dir/tmpfiles.out" 2>&1
verdict $? "systemd-tmpfiles" "$(cat "$dir/tmpfiles.out")"
[ "$(stat -c '%u:%g %a' "$root/run/norikv-sidecar" 2>&1)" = "$uid:$gid 755" ]
verdict $? "tmpfiles creates /run/norikv-sidecar for norikv" "$(stat -c '%u:%g %a' "$root/run/norikv-sidecar" 2>&1)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
