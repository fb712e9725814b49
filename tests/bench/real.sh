#!/bin/bash
# Benchmark (not a test) against NoriKV's own server: one norikv-server node
# (NORIKV_SERVER=/path/to/norikv-server), the sidecar in front of it, and in the same run:
#   - redis-benchmark through the sidecar: GET and SET at 1 and 50 clients on one key, and
#     SET at 50 clients over 1,000 keys (-r 1000);
#   - norikv-cli bench straight to the node at the same concurrency and keys (GET: mix 1:0,
#     SET: mix 0:1), the direct-client baseline;
# with, for each run, the operations per second and the sidecar's CPU time per operation
# (/proc/PID/stat before and after; norikv-cli reports its own). norikv-cli is the same
# cluster client as the sidecar's, so it too sends a shard one write at a time; both get a
# 30 s deadline. At a few writes a second, a write's CPU figure includes the client's
# background work (views, timers) spread over few operations. The node runs with
# tests/real/no-fallocate.so preloaded when it is there (tests/real/run.sh says why).
# Loopback and Unix sockets only; everything it starts is stopped on any exit. Run from the
# build directory: NORIKV_SERVER=... tests/bench/real.sh  (REAL_SETS, default 150: the SETs
# of a run; REAL_GETS, default 20000).
set -euo pipefail
SERVER=${NORIKV_SERVER:?set NORIKV_SERVER to the path of a norikv-server binary}
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
CLI=${NORIKV_CLI:-./norikv-cli}
PRELOAD=${NORIKV_SERVER_PRELOAD:-$(pwd)/tests/real/no-fallocate.so}
[ -f "$PRELOAD" ] || PRELOAD=
SETS=${REAL_SETS:-150}
GETS=${REAL_GETS:-20000}
for b in "$SERVER" "$SIDECAR" "$CLI"; do
    [ -x "$b" ] || { echo "real.sh: $b is missing" >&2; exit 1; }
done
command -v redis-benchmark >/dev/null || { echo "real.sh: redis-benchmark is missing (Debian: redis-tools)" >&2; exit 1; }

dir=$(mktemp -d /tmp/norikv-real-bench.XXXXXX)
pids=()
cleanup() {
    trap - EXIT INT TERM HUP
    local p
    for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

port=$(( (RANDOM % 10000) + 40000 ))
env NORIKV_NODE_ID=node0 NORIKV_RPC_ADDR="127.0.0.1:$port" NORIKV_HTTP_ADDR="127.0.0.1:$((port + 1))" \
    NORIKV_DATA_DIR="$dir/data" LD_PRELOAD="$PRELOAD" "$SERVER" "$dir/none.yaml" > "$dir/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 300); do grep -q 'NoriKV server is ready' "$dir/server.log" && break; sleep 0.1; done
grep -q 'NoriKV server is ready' "$dir/server.log" || { echo "real.sh: the server did not start" >&2; tail "$dir/server.log" >&2; exit 1; }
node="127.0.0.1:$port"
sock="$dir/sidecar.sock"
# a 30 s deadline: 50 writers of one shard queue behind its 150 ms commits (one write at a
# time per shard), which the default 5 s would turn into TIMEOUTs rather than a rate
"$SIDECAR" --sidecar.listen="$sock" --cluster.nodes="$node" --log.level=warning \
    --cluster.timeout_ms=30000 > "$dir/sidecar.log" 2>&1 &
sidecar=$!
pids+=("$sidecar")
for _ in $(seq 150); do
    [ -S "$sock" ] && redis-cli -s "$sock" INFO cluster 2>/dev/null | grep -q 'norikv_view:yes' && break
    sleep 0.1
done
redis-cli -s "$sock" PING | grep -q PONG || { echo "real.sh: the sidecar did not start" >&2; exit 1; }

ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
hz=$(getconf CLK_TCK)
rows=()

# via_sidecar NAME N CLIENTS TEST [redis-benchmark options]
via_sidecar() {
    local name=$1 n=$2 c=$3 t=$4 t0 t1 s0 s1 out rps
    shift 4
    s0=$(ticks "$sidecar")
    t0=$(date +%s.%N)
    out=$(redis-benchmark -s "$sock" -n "$n" -c "$c" -t "$t" -q "$@" 2>&1 | tr '\r' '\n' |
        grep -E 'requests per second|Error' | tail -n 1 || true)
    t1=$(date +%s.%N)
    s1=$(ticks "$sidecar")
    if ! echo "$out" | grep -q 'requests per second'; then
        rows+=("$(printf '%-34s %s' "$name" "${out:-no result}")")
        echo "${rows[-1]}"
        return
    fi
    rps=$(echo "$out" | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
    rows+=("$(printf '%-34s %10.1f ops/s %8.1f us CPU/op (sidecar)' "$name" "$rps" \
        "$(awk -v d=$((s1 - s0)) -v hz="$hz" -v n="$n" 'BEGIN { print d / hz * 1e6 / n }')")")
    echo "${rows[-1]}"
}

# direct NAME N CONCURRENCY MIX KEYS
direct() {
    local name=$1 n=$2 c=$3 mix=$4 keys=$5 line ops cpu errs
    line=$("$CLI" --nodes "$node" --timeout-ms 30000 bench --ops "$n" --concurrency "$c" \
        --mix "$mix" --keys "$keys" 2>&1 | grep '^bench:' || true)
    if [ -z "$line" ]; then
        rows+=("$(printf '%-34s no result' "$name")")
        echo "${rows[-1]}"
        return
    fi
    ops=$(echo "$line" | sed -E 's/.*ops_per_sec=([0-9.]+).*/\1/')
    cpu=$(echo "$line" | sed -E 's/.*cpu_us_per_op=([0-9.]+).*/\1/')
    errs=$(echo "$line" | sed -E 's/.*errors=([0-9]+).*/\1/')
    rows+=("$(printf '%-34s %10.1f ops/s %8.1f us CPU/op (client), %s errors' "$name" "$ops" "$cpu" "$errs")")
    echo "${rows[-1]}"
}

# the key's shard elected before the runs (a fresh shard answers NOT_LEADER for ~300 ms)
redis-cli -s "$sock" SET key:__rand_int__ warm > /dev/null
"$CLI" --nodes "$node" bench --ops 100 --concurrency 1 --mix 0:1 --keys 1 > /dev/null 2>&1 || true

echo "norikv-server $SERVER, one node; sidecar $SIDECAR; $(date -u +%Y-%m-%dT%H:%MZ)"
via_sidecar "GET, 1 client, one key" "$GETS" 1 get
direct "GET, 1 in flight, direct" "$GETS" 1 1:0 1
via_sidecar "GET, 50 clients, one key" "$GETS" 50 get
direct "GET, 50 in flight, direct" "$GETS" 50 1:0 1
via_sidecar "SET, 1 client, one key" "$SETS" 1 set
direct "SET, 1 in flight, direct" "$SETS" 1 0:1 1
via_sidecar "SET, 50 clients, one key" "$SETS" 50 set
direct "SET, 50 in flight, direct, one key" "$((SETS * 10))" 50 0:1 1
via_sidecar "SET, 50 clients, 1,000 keys" "$((SETS * 10))" 50 set -r 1000
direct "SET, 50 in flight, direct, 1,000 keys" "$((SETS * 10))" 50 0:1 1000
echo
echo "direct writes to one shard at once are acknowledged and lost by the server (README:"
echo "\"NoriKV server behaviours the sidecar works around\"); the sidecar sends a shard one"
echo "write at a time"
