#!/bin/bash
# Benchmark (not a test): on this machine, in one go, a three-node norikv-devnode, the
# sidecar in front of it and a local redis-server; then
#   - redis-benchmark through the sidecar: GET, SET, MGET (10 keys) with 1, 50 and 200
#     clients, pipelines 1 and 16;
#   - norikv-cli bench straight to the devnode at the same concurrency (GET: mix 1:0,
#     SET: mix 0:1), the direct-client baseline;
#   - redis-benchmark PING_MBULK against the sidecar and against redis-server;
# and prints one table (ops/s, p50 and p99 in ms) with the ratios sidecar/direct and
# sidecar/redis-server. Loopback and Unix sockets only; everything it starts is stopped on
# any exit. Run from the build directory: tests/bench/run.sh  (BENCH_SCALE=0.5 halves the
# request counts).
set -euo pipefail
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
CLI=${NORIKV_CLI:-./norikv-cli}
SCALE=${BENCH_SCALE:-1}
for b in "$DEVNODE" "$SIDECAR" "$CLI"; do
    [ -x "$b" ] || { echo "run.sh: $b is missing: build first (./configure && make)" >&2; exit 1; }
done
for t in redis-benchmark redis-server; do
    command -v "$t" >/dev/null || { echo "run.sh: $t is missing (Debian: redis-tools, redis-server)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/norikv-bench.XXXXXX)
pids=()
cleanup() {
    trap - EXIT INT TERM HUP
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
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

# requests for a run: n(base) scaled
n() { awk -v b="$1" -v s="$SCALE" 'BEGIN { v = int(b * s); print (v < 100 ? 100 : v) }'; }

# ---- start ----
devnode=
for attempt in $(seq 10); do
    base=$(( (RANDOM * 7 + attempt * 101) % 12000 + 20000 ))
    "$DEVNODE" --nodes 3 --base-port "$base" > "$dir/devnode.log" 2>&1 &
    devnode=$!
    for _ in $(seq 150); do
        [ "$(grep -c 'ready on' "$dir/devnode.log")" -eq 3 ] && break
        kill -0 "$devnode" 2>/dev/null || break
        sleep 0.1
    done
    [ "$(grep -c 'ready on' "$dir/devnode.log")" -eq 3 ] && break
    kill "$devnode" 2>/dev/null || true
    wait "$devnode" 2>/dev/null || true
    devnode=
done
[ -n "$devnode" ] || { echo "run.sh: the devnode did not start" >&2; cat "$dir/devnode.log" >&2; exit 1; }
pids+=("$devnode")
nodes="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"

sock="$dir/sidecar.sock"
"$SIDECAR" --sidecar.listen="$sock" --cluster.nodes="$nodes" --log.level=warning \
    > "$dir/sidecar.log" 2>&1 &
pids+=($!)
rsock="$dir/redis.sock"
redis-server --port 0 --unixsocket "$rsock" --save '' --appendonly no --dir "$dir" \
    > "$dir/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do
    [ -S "$sock" ] && [ -S "$rsock" ] && redis-cli -s "$sock" INFO cluster 2>/dev/null | grep -q 'norikv_view:yes' && break
    sleep 0.1
done
redis-cli -s "$sock" PING | grep -q PONG || { echo "run.sh: the sidecar did not start" >&2; cat "$dir/sidecar.log" >&2; exit 1; }
redis-cli -s "$rsock" PING | grep -q PONG || { echo "run.sh: redis-server did not start" >&2; exit 1; }

rows="$dir/rows"   # test target clients pipeline ops p50 p99
: > "$rows"
mget_keys=$(for _ in $(seq 10); do printf 'key:__rand_int__ '; done)

# bench_redis LABEL TARGET SOCKET CLIENTS PIPELINE REQUESTS ARGS...
bench_redis() {
    local label=$1 target=$2 s=$3 c=$4 p=$5 req=$6
    shift 6
    local out line
    out=$(timeout 120 redis-benchmark -s "$s" -c "$c" -P "$p" -n "$req" -r 10000 --csv "$@" 2>&1) || {
        echo "run.sh: redis-benchmark $label -c $c -P $p failed: $out" >&2; exit 1; }
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    line=$(printf '%s\n' "$out" | grep -v '^"test"' | grep '^"' | tail -n 1 | tr -d '"')
    [ -n "$line" ] || { echo "run.sh: no result from redis-benchmark $label: $out" >&2; exit 1; }
    echo "$line" | awk -F, -v l="$label" -v t="$target" -v c="$c" -v p="$p" \
        '{ printf "%s %s %s %s %.0f %.3f %.3f\n", l, t, c, p, $2, $5, $7 }' >> "$rows"
    printf '.' >&2
}

# bench_direct LABEL MIX CLIENTS REQUESTS
bench_direct() {
    local label=$1 mix=$2 c=$3 req=$4 out
    out=$(timeout 120 "$CLI" --nodes "$nodes" bench --ops "$req" --concurrency "$c" --mix "$mix" \
        --value-size 3 --keys 10000 2>&1) || { echo "run.sh: norikv-cli bench failed: $out" >&2; exit 1; }
    printf '%s\n' "$out" | grep '^bench:' | sed 's/[a-z0-9_]*=//g' | awk -v l="$label" -v c="$c" \
        '{ printf "%s direct %s - %.0f %.3f %.3f\n", l, c, $2, $3 / 1000, $4 / 1000 }' >> "$rows"
    printf '.' >&2
}

echo "benchmarking (a dot per run) ..." >&2
for c in 1 50 200; do
    for p in 1 16; do
        if [ "$p" = 1 ]; then req=$([ "$c" = 1 ] && n 5000 || n 20000); else req=$(n 60000); fi
        bench_redis SET sidecar "$sock" "$c" "$p" "$req" -t set
        bench_redis GET sidecar "$sock" "$c" "$p" "$req" -t get
        bench_redis MGET10 sidecar "$sock" "$c" "$p" $((req / 4)) MGET $mget_keys
    done
    req=$([ "$c" = 1 ] && n 5000 || n 20000)
    bench_direct SET 0:1 "$c" "$req"
    bench_direct GET 1:0 "$c" "$req"
done
for c in 1 50; do
    req=$([ "$c" = 1 ] && n 10000 || n 50000)
    bench_redis PING_MBULK sidecar "$sock" "$c" 1 "$req" -t ping_mbulk
    bench_redis PING_MBULK redis-server "$rsock" "$c" 1 "$req" -t ping_mbulk
done
echo >&2

# ---- the table ----
echo
echo "norikv-sidecar benchmark: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), redis-benchmark $(redis-benchmark --version | awk '{print $2}')"
echo
printf '| %-10s | %-12s | %7s | %8s | %9s | %8s | %8s |\n' test target clients pipeline ops/s "p50 ms" "p99 ms"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------ -------------- --------- ---------- ----------- ---------- ----------
awk '{ printf "| %-10s | %-12s | %7s | %8s | %9s | %8s | %8s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$rows"
echo
echo "Ratios, pipeline 1 (ops/s of the sidecar over ops/s of the other; p50 of both):"
echo
printf '| %-31s | %7s | %11s | %14s | %12s |\n' comparison clients "ops/s ratio" "sidecar p50 ms" "other p50 ms"
printf '|%s|%s|%s|%s|%s|\n' --------------------------------- --------- ------------- ---------------- --------------
awk '
    $2 == "sidecar" && $4 == "1" { sc[$1 " " $3] = $5; scp[$1 " " $3] = $6 }
    $2 == "direct" { d[$1 " " $3] = $5; dp[$1 " " $3] = $6 }
    $2 == "redis-server" { r[$1 " " $3] = $5; rp[$1 " " $3] = $6 }
    function row(name, c, a, b, ap, bp) {
        printf "| %-31s | %7s | %11.2f | %14.3f | %12.3f |\n", name, c, a / b, ap, bp
    }
    END {
        split("GET SET", tests, " "); split("1 50 200", cs, " ")
        for (i = 1; i <= 2; i++) for (j = 1; j <= 3; j++) {
            k = tests[i] " " cs[j]
            if (k in sc && k in d && d[k] > 0)
                row(tests[i] " sidecar/direct", cs[j], sc[k], d[k], scp[k], dp[k])
        }
        split("1 50", ps, " ")
        for (j = 1; j <= 2; j++) {
            k = "PING_MBULK " ps[j]
            if (k in sc && k in r && r[k] > 0)
                row("PING_MBULK sidecar/redis-server", ps[j], sc[k], r[k], scp[k], rp[k])
        }
    }' "$rows"
