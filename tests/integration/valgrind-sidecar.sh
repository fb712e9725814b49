#!/bin/sh
# norikv-sidecar under valgrind through a workout: redis-benchmark, every command family
# (vector sets and NORI.V* on a devnode serving Vector, subscribers to cluster events),
# pipelines, a protocol error, a client leaving with operations in flight, the metrics
# listener scraped (with curl, when installed), then SIGTERM with a client connected. Any
# definite, indirect or possible leak or memory error makes
# valgrind exit 99 and this test fail.
[ -n "${NORIKV_SANITIZERS:-}" ] && { echo "sanitizer build: valgrind skipped"; exit 77; }
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed: skipped"; exit 77; }
command -v redis-cli >/dev/null 2>&1 || { echo "redis-cli not installed: skipped"; exit 77; }
srcdir=${srcdir:-.}
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
dir=$(mktemp -d /tmp/norikv-vg.XXXXXX)
sock=$dir/s.sock
devnode= sidecar=
cleanup() {
    [ -n "$sidecar" ] && kill -9 "$sidecar" 2>/dev/null
    [ -n "$devnode" ] && kill "$devnode" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

for attempt in 1 2 3 4 5 6 7 8 9 10; do
    base=$(( (($$ * 13 + attempt * 7919) % 30000) + 20000 ))
    "$DEVNODE" --nodes 3 --base-port "$base" --vector --view cluster \
        --control "$dir/ctl.sock" > "$dir/devnode.out" 2>&1 &
    devnode=$!
    for i in $(seq 1 100); do
        [ "$(grep -c 'ready on' "$dir/devnode.out")" -eq 3 ] && break
        kill -0 "$devnode" 2>/dev/null || break
        sleep 0.05
    done
    [ "$(grep -c 'ready on' "$dir/devnode.out")" -eq 3 ] && break
    wait "$devnode" 2>/dev/null
    devnode=
done
[ -n "$devnode" ] || { echo "devnode did not start"; exit 1; }

valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=99 --suppressions="$srcdir/tests/integration/valgrind.supp" \
    "$SIDECAR" --sidecar.listen="$sock" --metrics.listen="$dir/metrics.sock" --log.format=json \
    --cluster.nodes="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))" \
    > "$dir/sidecar.out" 2>&1 &
sidecar=$!
for i in $(seq 1 600); do
    redis-cli -s "$sock" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done

pass=0 fail=0
verdict() { # ok? name detail
    if [ "$1" -eq 0 ]; then pass=$((pass + 1)); else
        echo "FAIL $2: $3"
        fail=$((fail + 1))
    fi
}
check() { # name expected command...
    name=$1 want=$2
    shift 2
    got=$(timeout 60 "$@" 2>&1)
    printf '%s' "$got" | grep -q -- "$want"
    verdict $? "$name" "wanted '$want', got '$got'"
}
R="redis-cli -s $sock"
check ping PONG $R ping
check set OK $R set k1 v1
check get v1 $R get k1
check mset OK $R mset a 1 b 2 c 3
check mget 2 $R mget a b c nope
check del 3 $R del a b c
check exists 1 $R exists k1 nope
check setex OK $R setex t 100 v
check nori-put 0 $R nori.put np v ttl 1000 idempotency r1
check nori-get v $R nori.get np consistency stale_ok
check nori-cas VERSIONMISMATCH $R nori.put np w ifmatch 0 999
check nori-del 1 $R nori.del np
check nori-topology epoch $R nori.topology
check nori-stats active_connections $R nori.stats
check info redis_version $R info all
check command-docs summary $R command docs
check command get $R command
check hello proto $R -3 hello 3
check client-list id= $R client list
check refused 'not supported' $R dbsize
check unknown 'unknown command' $R frob
check vadd 1 $R vadd vs VALUES 3 1 0 0 a
check vadd-b 1 $R vadd vs VALUES 3 0 1 0 b
check vsim-scores 0.5 $R vsim vs VALUES 3 1 0 0 WITHSCORES
check vsim-ele b $R -3 vsim vs ELE a WITHSCORES
check vemb-raw f32 $R vemb vs a RAW
check vismember 1 $R vismember vs a
check vrem 1 $R vrem vs a
check vset-refused 'not supported' $R vcard vs
check vset-error 'dimension mismatch' $R vsim vs VALUES 2 1 0
check nori-vcreate 1 $R nori.vcreate nv 2 euclidean
check nori-vinsert 1 $R nori.vinsert nv p 1 2
check nori-vsearch p $R nori.vsearch nv 1 values 1 2 withvectors
check nori-vget 2 $R nori.vget nv p
check nori-vdrop 1 $R nori.vdrop nv
check hset 2 $R hset h a 1 b 2
check hincrby 11 $R hincrby h a 10
check hgetall 11 $R hgetall h
check hscan b $R hscan h 0 match 'b*'
check hrandfield a $R hrandfield h -5 withvalues
check hdel 2 $R hdel h a b
check sadd 3 $R sadd ss1 x y z
check sadd-2 2 $R sadd ss2 y w
check spop 2 $R scard "$($R spop ss1 1 >/dev/null; echo ss1)"
check sunion w $R sunion ss1 ss2
check sintercard 0 $R sintercard 2 ss1 nope
check set-wrongtype WRONGTYPE $R get ss2
check smove-refused 'not supported' $R smove ss1 ss2 y
# subscribers (RESP2, RESP3 by pattern) that get an event, then leave while subscribed
$R subscribe norikv:topology other > "$dir/sub.out" 2>&1 &
sub=$!
$R -3 psubscribe 'norikv:*' > "$dir/psub.out" 2>&1 &
psub=$!
sleep 2
echo 'move 3 2' | timeout 10 socat - "UNIX-CONNECT:$dir/ctl.sock" > /dev/null
echo 'move 3 1' | timeout 10 socat - "UNIX-CONNECT:$dir/ctl.sock" > /dev/null
check pubsub-numsub 1 $R pubsub numsub norikv:topology
sleep 2
kill "$sub" "$psub" 2>/dev/null
wait "$sub" "$psub" 2>/dev/null
grep -q leader_changes "$dir/sub.out"
verdict $? subscribe "$(cat "$dir/sub.out")"
grep -q leader_changes "$dir/psub.out"
verdict $? psubscribe "$(cat "$dir/psub.out")"
check publish-refused 'not supported' $R publish other x
check benchmark 'requests per second' redis-benchmark -s "$sock" -n 2000 -c 20 -P 4 -t ping,set,get,mset -q
printf 'PING\r\n*1\r\nfoo\r\n' | timeout 10 socat - "UNIX-CONNECT:$sock" > "$dir/proto.out" 2>&1
grep -q "Protocol error: expected" "$dir/proto.out"
verdict $? protocol-error "$(cat "$dir/proto.out")"
# a client that leaves with 300 reads in flight
i=0; while [ $i -lt 300 ]; do printf '*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n'; i=$((i + 1)); done |
    timeout 10 socat -u - "UNIX-CONNECT:$sock"
check after-leaver PONG $R ping
check info-latency latency_percentiles_usec_get $R info latencystats
check info-memory used_memory_rss $R info memory
if command -v curl >/dev/null 2>&1; then
    C="curl -sS --max-time 20 --unix-socket $dir/metrics.sock"
    check metrics norikv_sidecar_command_duration_seconds_bucket $C http://localhost/metrics
    check readyz ready $C http://localhost/readyz
    check healthz ok $C http://localhost/healthz
    check not-found 'not found' $C http://localhost/nope
fi
# SIGTERM with a client connected: drain and exit 0
redis-cli -s "$sock" -r 60 -i 0.5 ping > /dev/null 2>&1 &
idle=$!
sleep 0.5
kill -TERM "$sidecar"
status=0
wait "$sidecar" || status=$?
sidecar=
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null
[ "$status" -eq 0 ] || grep -v '^==[0-9]*== *$' "$dir/sidecar.out" | head -60
verdict "$status" exit "valgrind/sidecar exited $status"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
