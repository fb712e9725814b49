#!/bin/sh
# A Node.js Redis client against norikv-sidecar: run-js.sh NAME MODULE SCRIPT [DEVNODE_ARG]...
# starts a three-node devnode (DEVNODE_ARGs added, a control socket) and a sidecar (loopback,
# a temporary socket), runs `node tests/e2e/SCRIPT SOCKET CONTROL_SOCKET NODES` with
# NORIKV_JS_MODULES naming the npm folder, and passes its exit status through. Skipped (77)
# when node or the npm package MODULE (npm install --prefix tests/js) is missing. NAME
# prefixes its messages. Everything it starts is stopped on any exit.
# With NORIKV_SERVER set (make check-real), NoriKV's own server runs instead of the devnode:
# NORIKV_SERVER_NODES nodes (default 1), no control socket (CONTROL_SOCKET is then "").
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
[ -n "${NORIKV_SERVER:-}" ] && DEVNODE=$NORIKV_SERVER
for bin in "$DEVNODE" "$SIDECAR"; do
    [ -x "$bin" ] || { echo "$name: $bin is missing: build first"; exit 1; }
done

dir=$(mktemp -d /tmp/norikv-js.XXXXXX)
devnode= sidecar= node=
servers=
cleanup() {
    trap - EXIT INT TERM HUP
    for p in $node $sidecar $devnode $servers; do
        kill "$p" 2>/dev/null
    done
    for p in $node $sidecar $devnode $servers; do
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

# NoriKV's own server: node I (0-based) of N on base+I (gRPC) and base+N+I (HTTP), data
# in $dir/nodeI, named nodeI with every node as a seed when N > 1 (as tests/e2e/harness.py
# starts it); true once each logged that it is ready
start_servers() {
    n=${NORIKV_SERVER_NODES:-1} seeds= i=0
    while [ $i -lt "$n" ]; do
        seeds="$seeds${seeds:+,}127.0.0.1:$((base + i))"
        i=$((i + 1))
    done
    [ "$n" -gt 1 ] || seeds=
    i=0
    while [ $i -lt "$n" ]; do
        # an empty NORIKV_SEED_NODES would be one seed "", which the server refuses
        if [ -n "$seeds" ]; then set -- NORIKV_SEED_NODES="$seeds"; else set -- -u NORIKV_SEED_NODES; fi
        env "$@" NORIKV_NODE_ID="node$i" NORIKV_RPC_ADDR="127.0.0.1:$((base + i))" \
            NORIKV_HTTP_ADDR="127.0.0.1:$((base + n + i))" NORIKV_DATA_DIR="$dir/node$i" \
            LD_PRELOAD="${NORIKV_SERVER_PRELOAD:-}" \
            "$NORIKV_SERVER" "$dir/no-such-norikv.yaml" > "$dir/node$i.log" 2>&1 &
        servers="$servers $!"
        i=$((i + 1))
    done
    i=0
    while [ $i -lt 300 ]; do
        ready=$(cat "$dir"/node*.log | grep -c 'NoriKV server is ready')
        [ "$ready" -eq "$n" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    nodes= i=0
    while [ $i -lt "$n" ]; do
        nodes="$nodes${nodes:+,}127.0.0.1:$((base + i))"
        i=$((i + 1))
    done
    [ "$ready" -eq "$n" ]
}

if [ -n "${NORIKV_SERVER:-}" ]; then
    base=$(( ($$ * 17 + $(date +%N | sed 's/^0*//;s/^$/0/') % 1000) % 12000 + 20000 ))
    start_servers || { echo "$name: norikv-server did not start:"; tail -n 5 "$dir"/node*.log
        exit 1; }
    ctl=
fi

# The real profile's timings (a write answered on a 150 ms commit tick, ...) are the
# server's; without a --profile among the DEVNODE_ARGs they are off, as in the other suites.
case " $* " in
*" --profile "*) timings= ;;
*) timings="--commit-tick-ms 0 --fresh-shard-ms 0 --start-delay-ms 0" ;;
esac

# a free base port: retry while the devnode cannot bind
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "${NORIKV_SERVER:-}" ] && break
    base=$(( ($$ * 17 + attempt * 7927 + $(date +%N | sed 's/^0*//;s/^$/0/') % 1000) % 12000 + 20000 ))
    # shellcheck disable=SC2086
    "$DEVNODE" --nodes 3 --base-port "$base" --control "$dir/ctl.sock" $timings "$@" \
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
if [ -z "${NORIKV_SERVER:-}" ]; then
    [ -n "$devnode" ] || { echo "$name: the devnode did not start:"; cat "$dir/devnode.log"; exit 1; }
    nodes="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
    ctl="$dir/ctl.sock"
fi
sock="$dir/sidecar.sock"
# NORIKV_SIDECAR_ARGS: more options for the sidecar (apps-*.sh: the typed string format)
# shellcheck disable=SC2086
"$SIDECAR" --sidecar.listen="$sock" --cluster.nodes="$nodes" ${NORIKV_SIDECAR_ARGS:-} > "$dir/sidecar.log" 2>&1 &
sidecar=$!
i=0
while [ $i -lt 150 ] && ! grep -q 'ready: clients on' "$dir/sidecar.log"; do
    kill -0 "$sidecar" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
grep -q 'ready: clients on' "$dir/sidecar.log" || {
    echo "$name: the sidecar did not start:"; cat "$dir/sidecar.log"; exit 1; }

NORIKV_JS_MODULES="$modules" node "$srcdir/tests/e2e/$script" "$sock" "$ctl" "$nodes" &
node=$!
wait "$node"
status=$?
node=
exit "$status"
