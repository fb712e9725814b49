#!/bin/sh
# ioredis 6 against norikv-sidecar: starts a three-node devnode and a sidecar (loopback, a
# temporary socket), runs tests/e2e/ioredis.js and passes its exit status through. Skipped (77)
# when node or ioredis (npm install --prefix tests/js) is missing. Everything it starts is
# stopped on any exit.
set -u
srcdir=${srcdir:-.}
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
modules="$srcdir/tests/js/node_modules"

if ! command -v node >/dev/null 2>&1; then
    echo "ioredis.sh: node is not installed (Debian: nodejs): skipped"
    exit 77
fi
if [ ! -f "$modules/ioredis/package.json" ]; then
    echo "ioredis.sh: ioredis is not in $modules (npm install --prefix $srcdir/tests/js): skipped"
    exit 77
fi
for bin in "$DEVNODE" "$SIDECAR"; do
    [ -x "$bin" ] || { echo "ioredis.sh: $bin is missing: build first"; exit 1; }
done

dir=$(mktemp -d /tmp/norikv-ioredis.XXXXXX)
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
    base=$(( ($$ * 13 + attempt * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/') % 1000) % 12000 + 20000 ))
    "$DEVNODE" --nodes 3 --base-port "$base" > "$dir/devnode.log" 2>&1 &
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
[ -n "$devnode" ] || { echo "ioredis.sh: the devnode did not start:"; cat "$dir/devnode.log"; exit 1; }

sock="$dir/sidecar.sock"
"$SIDECAR" --sidecar.listen="$sock" \
    --cluster.nodes="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))" \
    > "$dir/sidecar.log" 2>&1 &
sidecar=$!
i=0
while [ $i -lt 150 ] && ! grep -q 'ready: clients on' "$dir/sidecar.log"; do
    kill -0 "$sidecar" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
grep -q 'ready: clients on' "$dir/sidecar.log" || {
    echo "ioredis.sh: the sidecar did not start:"; cat "$dir/sidecar.log"; exit 1; }

IOREDIS_MODULES="$modules" node "$srcdir/tests/e2e/ioredis.js" "$sock" &
node=$!
wait "$node"
status=$?
node=
exit "$status"
