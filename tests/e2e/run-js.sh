#!/bin/sh
# A Node.js Redis client against norikv-sidecar: run-js.sh NAME MODULE SCRIPT [DEVNODE_ARG]...
# starts a three-node devnode (DEVNODE_ARGs added, a control socket) and a sidecar (loopback,
# a temporary socket), runs `node tests/e2e/SCRIPT SOCKET CONTROL_SOCKET NODES` with
# NORIKV_JS_MODULES naming the npm folder, and passes its exit status through. Skipped (77)
# when node or the npm package MODULE (npm install --prefix tests/js) is missing. NAME
# prefixes its messages. Everything it starts is stopped on any exit.
set -u
[ $# -ge 3 ] || { echo "usage: run-js.sh NAME MODULE SCRIPT [DEVNODE_ARG]..." >&2; exit 2; }
name=$1 module=$2 script=$3
shift 3
srcdir=${srcdir:-.}
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
modules="$srcdir/tests/js/node_modules"

if ! command -v node >/dev/null 2>&1; then
    echo "$name: node is not installed (Debian: nodejs): skipped"
    exit 77
fi
if [ ! -f "$modules/$module/package.json" ]; then
    echo "$name: $module is not in $modules (npm install --prefix $srcdir/tests/js): skipped"
    exit 77
fi
for bin in "$DEVNODE" "$SIDECAR"; do
    [ -x "$bin" ] || { echo "$name: $bin is missing: build first"; exit 1; }
done

dir=$(mktemp -d /tmp/norikv-js.XXXXXX)
devnode= sidecar= node=
cleanup() {
    trap - EXIT INT TERM HUP
    for p in $node $sidecar $devnode; do
        kill "$p" 2>/dev/null
    done
    for p in $node $sidecar $devnode; do
        # up to 5 s each, then SIGKILL
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# a free base port: retry while the devnode cannot bind
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    base=$(( ($$ * 17 + attempt * 7927 + $(date +%N | sed 's/^0*//;s/^$/0/') % 1000) % 12000 + 20000 ))
    "$DEVNODE" --nodes 3 --base-port "$base" --control "$dir/ctl.sock" "$@" \
        > "$dir/devnode.log" 2>&1 &
    devnode=$!
    i=0
    while [ $i -lt 150 ]; do
        [ "$(grep -c 'ready on' "$dir/devnode.log")" -eq 3 ] && break
        kill -0 "$devnode" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    [ "$(grep -c 'ready on' "$dir/devnode.log")" -eq 3 ] && break
    kill "$devnode" 2>/dev/null
    wait "$devnode" 2>/dev/null
    devnode=
done
[ -n "$devnode" ] || { echo "$name: the devnode did not start:"; cat "$dir/devnode.log"; exit 1; }

nodes="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
sock="$dir/sidecar.sock"
"$SIDECAR" --sidecar.listen="$sock" --cluster.nodes="$nodes" > "$dir/sidecar.log" 2>&1 &
sidecar=$!
i=0
while [ $i -lt 150 ] && ! grep -q 'ready: clients on' "$dir/sidecar.log"; do
    kill -0 "$sidecar" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
grep -q 'ready: clients on' "$dir/sidecar.log" || {
    echo "$name: the sidecar did not start:"; cat "$dir/sidecar.log"; exit 1; }

NORIKV_JS_MODULES="$modules" node "$srcdir/tests/e2e/$script" "$sock" "$dir/ctl.sock" "$nodes" &
node=$!
wait "$node"
status=$?
node=
exit "$status"
