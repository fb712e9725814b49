#!/bin/bash
# Benchmark (not a test): on this machine, in one go, a three-node norikv-devnode, the
# sidecar in front of it and a local redis-server; then
#   - redis-benchmark through the sidecar: GET, SET, MGET (10 keys) with 1, 50 and 200
#     clients, pipelines 1 and 16; GET with 1000 clients; INCR with 50 clients, on distinct
#     keys and all on one key (the hot key: its INCRs queue and share rounds, cas.c);
#   - norikv-cli bench straight to the devnode at the same concurrency (GET: mix 1:0,
#     SET: mix 0:1), the direct-client baseline (and SET at 16, the pipelined runs' peer);
#   - redis-benchmark PING_MBULK against the sidecar and against redis-server;
#   - GET at 1 in flight from a lean RESP client (tests/bench/resp-rtt: a write, a read),
#     against the sidecar and redis-server, and ECHO, which the sidecar answers itself;
#   - 100,000 SETs through `redis-cli --pipe` against norikv-cli at 50 in flight;
#   - memory: 10,000 idle connections, one 4 KiB SET on each, then all closed
#     (tests/bench/conns.py), sidecar and redis-server;
# For every run it reads the CPU time (/proc/PID/stat, or the shell's `times` for a load
# generator that has exited) of the server under test, of the load generator and of the
# devnode, the server's context switches (/proc/PID/task/*/status) and, when `perf` can
# count the raw_syscalls:sys_enter tracepoint, its system calls; each per operation.
# With a sidecar that has `[sidecar] ordering`, the pipelined SET runs and --pipe run under
# both orderings. It prints one table and a summary of the figures issue-style targets are
# about, as ratios against the direct client and redis-server measured in the same run.
# The runs the summary compares (GET and SET at 50 and 1 clients against the direct client,
# the lean client, 1000 clients, pipelines by key, INCR on one key) are taken BENCH_ROUNDS times (default 3),
# each with its baseline, and the summary shows medians.
# Loopback and Unix sockets only; everything it starts is stopped on any exit. Run from the
# build directory: tests/bench/run.sh  (BENCH_SCALE=0.5 halves the request counts,
# BENCH_CONNS the 10,000 connections).
set -euo pipefail
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
CLI=${NORIKV_CLI:-./norikv-cli}
RTT=${NORIKV_RESP_RTT:-./tests/bench/resp-rtt}
SCALE=${BENCH_SCALE:-1}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-10000}
HERE=$(cd "$(dirname "$0")" && pwd)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for b in "$DEVNODE" "$SIDECAR" "$CLI" "$RTT"; do
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
three_ready() { local n; n=$(grep -c 'ready on' "$dir/devnode.log" 2>/dev/null); [ "${n:-0}" -eq 3 ]; }
for attempt in $(seq 10); do
    base=$(( (RANDOM * 7 + attempt * 101) % 12000 + 20000 ))
    # the real profile without the server's timings (a write on a 150 ms tick): the figures
    # are the sidecar's and the client's cost, not the server's heartbeat (tests/bench/real.sh
    # measures against the server itself)
    "$DEVNODE" --nodes 3 --base-port "$base" --commit-tick-ms 0 --fresh-shard-ms 0 \
        --start-delay-ms 0 > "$dir/devnode.log" 2>&1 &
    devnode=$!
    for _ in $(seq 150); do
        three_ready && break
        kill -0 "$devnode" 2>/dev/null || break
        sleep 0.1
    done
    three_ready && break
    kill "$devnode" 2>/dev/null || true
    wait "$devnode" 2>/dev/null || true
    devnode=
done
[ -n "$devnode" ] || { echo "run.sh: the devnode did not start" >&2; cat "$dir/devnode.log" >&2; exit 1; }
pids+=("$devnode")
nodes="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"

sock="$dir/sidecar.sock"
# a file of its own, so that a reload (SIGHUP) can change [sidecar] ordering below
echo "# run.sh: what set_ordering writes" > "$dir/sidecar.conf"
"$SIDECAR" -c "$dir/sidecar.conf" --sidecar.listen="$sock" --cluster.nodes="$nodes" --log.level=warning \
    --sidecar.max_clients=$((CONNS + 1100)) > "$dir/sidecar.log" 2>&1 &
sidecar=$!
pids+=("$sidecar")
rsock="$dir/redis.sock"
redis-server --port 0 --unixsocket "$rsock" --save '' --appendonly no --dir "$dir" \
    --maxclients $((CONNS + 1100)) > "$dir/redis.log" 2>&1 &
redis=$!
pids+=("$redis")
for _ in $(seq 150); do
    [ -S "$sock" ] && [ -S "$rsock" ] && redis-cli -s "$sock" INFO cluster 2>/dev/null | grep -q 'norikv_view:yes' && break
    sleep 0.1
done
redis-cli -s "$sock" PING | grep -q PONG || { echo "run.sh: the sidecar did not start" >&2; cat "$dir/sidecar.log" >&2; exit 1; }
redis-cli -s "$rsock" PING | grep -q PONG || { echo "run.sh: redis-server did not start" >&2; exit 1; }


# ---- what a run costs ----
hz=$(getconf CLK_TCK)
# CPU time of a running process (all threads) in clock ticks
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# context switches of a running process, all threads
ctxsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'; }
# the CPU time, in seconds, of this shell's children that have exited (`times`' second line),
# into $child_cpu. `times` must run in this shell (a subshell's children are its own), and
# the parsing subshells it starts here are counted in the next snapshot, not this one.
snap_child_cpu() {
    times > "$dir/times"
    child_cpu=$(tail -n 1 "$dir/times" | awk '{ gsub(/[ms]/, " "); split($0, f, " "); print f[1] * 60 + f[2] + f[3] * 60 + f[4] }')
}
have_perf=no
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -x, -o "$dir/perf.probe" -- true 2>/dev/null \
    && grep -q raw_syscalls "$dir/perf.probe"; then
    have_perf=yes
fi
perf_pid=
# measure_start SERVER_PID: snapshot the counters (the devnode is always measured too)
measure_start() {
    perf_pid=
    if [ "$have_perf" = yes ] && [ "$1" != "$devnode" ]; then
        perf stat -e raw_syscalls:sys_enter -x, -o "$dir/perf.out" -p "$1" 2>/dev/null &
        perf_pid=$!
        sleep 0.2
    fi
    m_srv=$1 m_t0=$(ticks "$1") m_c0=$(ctxsw "$1") m_d0=$(ticks "$devnode")
    snap_child_cpu
    m_g0=$child_cpu
}
# measure_end OPS: sets $cost to "srv_us gen_us dn_us ctx/op sys/op", each per operation.
# The load generator's CPU is read before perf (a child of this shell too) is reaped.
measure_end() {
    local ops=$1 t1 c1 d1 g1 sys=-
    snap_child_cpu
    g1=$child_cpu
    t1=$(ticks "$m_srv") c1=$(ctxsw "$m_srv") d1=$(ticks "$devnode")
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        sys=$(awk -F, -v n="$ops" '/raw_syscalls/ { printf "%.1f", $1 / n }' "$dir/perf.out")
        [ -n "$sys" ] || sys=-
    fi
    cost=$(awk -v hz="$hz" -v n="$ops" -v t="$((t1 - m_t0))" -v d="$((d1 - m_d0))" -v c="$((c1 - m_c0))" \
        -v g0="$m_g0" -v g1="$g1" -v s="$sys" \
        'BEGIN { printf "%.1f %.1f %.1f %.1f %s", t * 1e6 / hz / n, (g1 - g0) * 1e6 / n, d * 1e6 / hz / n, c / n, s }')
}
rows="$dir/rows"   # test target clients pipeline ops/s p50 p99 srv_us gen_us dn_us ctx sys
: > "$rows"
mget_keys=$(for _ in $(seq 10); do printf 'key:__rand_int__ '; done)

# bench_redis LABEL TARGET SOCKET SERVER_PID CLIENTS PIPELINE REQUESTS ARGS...: the keys'
# __rand_int__ drawn from 10,000 numbers; with one_key=yes left as it is, so that every
# request names one key (-t incr: counter:__rand_int__)
bench_redis() {
    local label=$1 target=$2 s=$3 spid=$4 c=$5 p=$6 req=$7
    shift 7
    local out line rand=(-r 10000)
    [ "${one_key:-}" = yes ] && rand=()
    measure_start "$spid"
    out=$(timeout 300 redis-benchmark -s "$s" -c "$c" -P "$p" -n "$req" "${rand[@]}" --csv "$@" 2>&1) || {
        echo "run.sh: redis-benchmark $label -c $c -P $p failed: $out" >&2; exit 1; }
    measure_end "$req"
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    line=$(printf '%s\n' "$out" | grep -v '^"test"' | grep '^"' | tail -n 1 | tr -d '"')
    [ -n "$line" ] || { echo "run.sh: no result from redis-benchmark $label: $out" >&2; exit 1; }
    echo "$line" | awk -F, -v l="$label" -v t="$target" -v c="$c" -v p="$p" -v cost="$cost" \
        '{ printf "%s %s %s %s %.0f %.3f %.3f %s\n", l, t, c, p, $2, $5, $7, cost }' >> "$rows"
    printf '.' >&2
}

# bench_direct LABEL MIX CLIENTS REQUESTS
bench_direct() {
    local label=$1 mix=$2 c=$3 req=$4 out
    out=$(timeout 300 "$CLI" --nodes "$nodes" bench --ops "$req" --concurrency "$c" --mix "$mix" \
        --value-size 3 --keys 10000 2>&1) || { echo "run.sh: norikv-cli bench failed: $out" >&2; exit 1; }
    # bench: ops_per_sec p50_us p99_us p999_us errors cpu_us_per_op (its preload and warm-up
    # are not measured, so the devnode's share is not shown for these rows)
    printf '%s\n' "$out" | grep '^bench:' | sed 's/[a-z0-9_]*=//g' | awk -v l="$label" -v c="$c" \
        '{ printf "%s direct %s - %.0f %.3f %.3f - %.1f - - -\n", l, c, $2, $3 / 1000, $4 / 1000, $7 }' >> "$rows"
    printf '.' >&2
}

# pipe_sets LABEL N: N SETs through redis-cli --pipe; records the elapsed seconds as ops/s
pipe_sets() {
    local label=$1 n=$2 t0 t1 out
    awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) { k = "pipe:" i; printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nabc\r\n", length(k), k } }' \
        > "$dir/pipe.resp"
    measure_start "$sidecar"
    t0=$(date +%s%N)
    out=$(timeout 600 redis-cli -s "$sock" --pipe < "$dir/pipe.resp" 2>&1) || {
        echo "run.sh: redis-cli --pipe failed: $out" >&2; exit 1; }
    t1=$(date +%s%N)
    measure_end "$n"
    printf '%s\n' "$out" | grep -q "errors: 0, replies: $n" || { echo "run.sh: redis-cli --pipe: $out" >&2; exit 1; }
    awk -v l="$label" -v n="$n" -v ns="$((t1 - t0))" -v cost="$cost" \
        'BEGIN { printf "%s sidecar 1 pipe %.0f - - %s\n", l, n / (ns / 1e9), cost }' >> "$rows"
    printf '.' >&2
}

# the sidecar's [sidecar] ordering, if it has one
ordering_now() { redis-cli -s "$sock" CONFIG GET sidecar.ordering 2>/dev/null | sed -n 2p; }
orderings=connection
if [ -n "$(ordering_now)" ]; then orderings="connection key"; fi
set_ordering() {
    [ -n "$(ordering_now)" ] || return 0
    printf '[sidecar]\nordering = %s\n' "$1" > "$dir/sidecar.conf"
    kill -HUP "$sidecar"
    for _ in $(seq 100); do
        [ "$(ordering_now)" = "$1" ] && return 0
        sleep 0.05
    done
    echo "run.sh: the reload to [sidecar] ordering = $1 did not take" >&2
    exit 1
}

# rtt LABEL TARGET SOCKET SERVER_PID COMMAND...: the lean client, 1 in flight
rtt() {
    local label=$1 target=$2 s=$3 spid=$4 req out
    shift 4
    req=$(n 20000)
    measure_start "$spid"
    out=$(timeout 300 "$RTT" "$s" "$req" "$@" 2>&1) || { echo "run.sh: resp-rtt $label failed: $out" >&2; exit 1; }
    measure_end "$((req + req / 10))"
    printf '%s\n' "$out" | sed 's/[a-z0-9_]*=//g' | awk -v l="$label" -v t="$target" -v cost="$cost" \
        '{ printf "%s %s 1 1 - %.4f %.4f %s\n", l, t, $2 / 1000, $4 / 1000, cost }' >> "$rows"
    printf '.' >&2
}

echo "benchmarking (a dot per run) ..." >&2
# memory first, while both servers are fresh (later runs leave the heap at its high-water mark)
mem_side=$(python3 "$HERE/conns.py" "$sock" "$sidecar" "$CONNS") || { echo "run.sh: conns.py (sidecar) failed" >&2; exit 1; }
printf '.' >&2
mem_redis=$(python3 "$HERE/conns.py" "$rsock" "$redis" "$CONNS") || { echo "run.sh: conns.py (redis-server) failed" >&2; exit 1; }
printf '.' >&2
for c in 1 50 200; do
    for p in 1 16; do
        if [ "$p" = 1 ]; then req=$([ "$c" = 1 ] && n 5000 || n 20000); else req=$(n 60000); fi
        bench_redis SET sidecar "$sock" "$sidecar" "$c" "$p" "$req" -t set
        bench_redis GET sidecar "$sock" "$sidecar" "$c" "$p" "$req" -t get
        bench_redis MGET10 sidecar "$sock" "$sidecar" "$c" "$p" $((req / 4)) MGET $mget_keys
    done
    req=$([ "$c" = 1 ] && n 5000 || n 20000)
    bench_direct SET 0:1 "$c" "$req"
    bench_direct GET 1:0 "$c" "$req"
done
bench_redis GET sidecar "$sock" "$sidecar" 1000 1 "$(n 40000)" -t get
bench_redis INCR sidecar "$sock" "$sidecar" 50 1 "$(n 20000)" -t incr
one_key=yes bench_redis INCR_1KEY sidecar "$sock" "$sidecar" 50 1 "$(n 20000)" -t incr
bench_direct SET 0:1 16 "$(n 20000)"
for o in $orderings; do
    set_ordering "$o"
    bench_redis "SET_$o" sidecar "$sock" "$sidecar" 1 16 "$(n 60000)" -t set
    pipe_sets "PIPE_$o" "$(n 100000)"
done
set_ordering connection
bench_direct PIPESET 0:1 50 "$(n 100000)"
for c in 1 50; do
    req=$([ "$c" = 1 ] && n 10000 || n 50000)
    bench_redis PING_MBULK sidecar "$sock" "$sidecar" "$c" 1 "$req" -t ping_mbulk
    bench_redis PING_MBULK redis-server "$rsock" "$redis" "$c" 1 "$req" -t ping_mbulk
done
redis-cli -s "$sock" SET bench:rtt abc >/dev/null
redis-cli -s "$rsock" SET bench:rtt abc >/dev/null
rtt RTT_GET sidecar "$sock" "$sidecar" GET bench:rtt
rtt RTT_GET redis-server "$rsock" "$redis" GET bench:rtt
rtt RTT_ECHO sidecar "$sock" "$sidecar" ECHO bench:rtt
# The runs the summary compares, again, so that each of its figures is the median of
# $ROUNDS runs taken in turn with their baseline (a 2-core machine shared with the devnode
# and the load generator is noisy from one run to the next).
for _ in $(seq 2 "$ROUNDS"); do
    for c in 50 1; do
        req=$([ "$c" = 1 ] && n 5000 || n 20000)
        bench_redis GET sidecar "$sock" "$sidecar" "$c" 1 "$req" -t get
        bench_direct GET 1:0 "$c" "$req"
        bench_redis SET sidecar "$sock" "$sidecar" "$c" 1 "$req" -t set
        bench_direct SET 0:1 "$c" "$req"
    done
    rtt RTT_GET sidecar "$sock" "$sidecar" GET bench:rtt
    bench_redis GET sidecar "$sock" "$sidecar" 1000 1 "$(n 40000)" -t get
    one_key=yes bench_redis INCR_1KEY sidecar "$sock" "$sidecar" 50 1 "$(n 20000)" -t incr
    bench_direct SET 0:1 16 "$(n 20000)"
    for o in $orderings; do
        set_ordering "$o"
        bench_redis "SET_$o" sidecar "$sock" "$sidecar" 1 16 "$(n 60000)" -t set
        [ "$o" = connection ] || pipe_sets "PIPE_$o" "$(n 100000)"
    done
    set_ordering connection
    bench_direct PIPESET 0:1 50 "$(n 100000)"
done
echo >&2

# ---- the tables ----
echo
echo "norikv-sidecar benchmark: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), redis-benchmark $(redis-benchmark --version | awk '{print $2}'), syscalls counted: $have_perf"
echo
echo "CPU columns are microseconds of CPU per operation: srv = the server under test (sidecar or"
echo "redis-server; none for the direct client), gen = the load generator (redis-benchmark, or"
echo "norikv-cli, which is both client and generator), dn = the three-node devnode. ctx and sys"
echo "are the server's context switches and system calls per operation."
echo
printf '| %-14s | %-12s | %7s | %8s | %9s | %7s | %7s | %6s | %6s | %6s | %5s | %5s |\n' \
    test target clients pipeline ops/s "p50 ms" "p99 ms" "srv µs" "gen µs" "dn µs" ctx sys
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------------- -------------- --------- ---------- \
    ----------- --------- --------- -------- -------- -------- ------- -------
awk '{ printf "| %-14s | %-12s | %7s | %8s | %9s | %7s | %7s | %6s | %6s | %6s | %5s | %5s |\n",
       $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$rows"
echo
echo "Summary (sidecar against the direct client and redis-server, this run; where a run was repeated, the median of its $ROUNDS runs):"
echo
printf '| %-58s | %12s | %12s | %9s |\n' figure sidecar other ratio
printf '|%s|%s|%s|%s|\n' ------------------------------------------------------------ -------------- -------------- -----------
awk -v ms="$mem_side" -v mr="$mem_redis" -v orderings="$orderings" '
    # the median of the runs of each kind
    function med(v, k,   n, i, j, t, a) {
        n = cnt[k]
        for (i = 1; i <= n; i++) a[i] = v[k, i]
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        if (n == 0 || a[1] == "-") return a[1]
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { k = $1 " " $2 " " $3 " " $4; i = ++cnt[k]; o[k, i] = $5; q[k, i] = $6; sv[k, i] = $8; g[k, i] = $9 }
    END {
        for (k in cnt) { ops[k] = med(o, k); p50[k] = med(q, k); srv[k] = med(sv, k); gen[k] = med(g, k) }
    }
    function row(name, a, b, fmt) {
        if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) return
        printf "| %-58s | %12s | %12s | %9.2f |\n", name, sprintf(fmt, a), sprintf(fmt, b), a / b
    }
    function kv(s, name,   i, f, p) {
        split(s, f, " ")
        for (i in f) { split(f[i], p, "="); if (p[1] == name) return p[2] }
        return ""
    }
    END {
        row("GET CPU µs/op at 50 clients (sidecar / direct client)", srv["GET sidecar 50 1"], gen["GET direct 50 -"], "%.1f")
        row("SET CPU µs/op at 50 clients (sidecar / direct client)", srv["SET sidecar 50 1"], gen["SET direct 50 -"], "%.1f")
        a = p50["GET sidecar 1 1"] * 1000; b = p50["GET direct 1 -"] * 1000
        printf "| %-58s | %12.0f | %12.0f | %9s |\n", "GET p50 µs at 1 in flight (added: " int(a - b) " µs)", a, b, "-"
        a = p50["RTT_GET sidecar 1 1"] * 1000
        printf "| %-58s | %12.1f | %12.0f | %9s |\n", "same, lean RESP client (resp-rtt; added: " int(a - b + 0.5) " µs)", a, b, "-"
        a = p50["RTT_ECHO sidecar 1 1"] * 1000; b = p50["RTT_GET redis-server 1 1"] * 1000
        printf "| %-58s | %12.1f | %12.1f | %9s |\n", "lean round trip µs: sidecar ECHO / redis-server GET", a, b, "-"
        n = split(orderings, os, " ")
        for (i = 1; i <= n; i++) {
            row("SET -P 16 -c 1, ordering=" os[i] " (ops/s; direct at 16)", ops["SET_" os[i] " sidecar 1 16"], ops["SET direct 16 -"], "%.0f")
            row("--pipe 100k SETs, ordering=" os[i] " (ops/s; direct at 50)", ops["PIPE_" os[i] " sidecar 1 pipe"], ops["PIPESET direct 50 -"], "%.0f")
        }
        row("GET ops/s, 1000 clients / 50 clients", ops["GET sidecar 1000 1"], ops["GET sidecar 50 1"], "%.0f")
        row("hot-key INCR ops/s at 50 clients / SET on distinct keys", ops["INCR_1KEY sidecar 50 1"], ops["SET sidecar 50 1"], "%.0f")
        row("INCR ops/s at 50 clients: one key / distinct keys", ops["INCR_1KEY sidecar 50 1"], ops["INCR sidecar 50 1"], "%.0f")
        row("PING ops/s at 50 clients (sidecar / redis-server)", ops["PING_MBULK sidecar 50 1"], ops["PING_MBULK redis-server 50 1"], "%.0f")
        n = kv(ms, "n")
        row("KiB per idle connection (sidecar / redis-server)", (kv(ms, "idle_kib") - kv(ms, "before_kib")) / n, (kv(mr, "idle_kib") - kv(mr, "before_kib")) / n, "%.2f")
        row("KiB per connection after a 4 KiB SET on each", (kv(ms, "burst_kib") - kv(ms, "before_kib")) / n, (kv(mr, "burst_kib") - kv(mr, "before_kib")) / n, "%.2f")
        row("RSS KiB after all closed / before they opened (sidecar)", kv(ms, "closed_kib"), kv(ms, "before_kib"), "%d")
        row("RSS KiB after all closed / before they opened (redis)", kv(mr, "closed_kib"), kv(mr, "before_kib"), "%d")
    }' "$rows"
