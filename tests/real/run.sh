#!/bin/sh
# make check-real: the suites against NoriKV's own server instead of the devnode.
#
#   make check-real NORIKV_SERVER=/path/to/norikv-server
#
# For each node count in NORIKV_SERVER_NODES_LIST (default "1 3"): check_devnode's server
# cases (one node only: they are one node's), check_kv's real-server cases, every e2e topic
# (tests/e2e/test_*.py) and the Node.js clients (ioredis.sh, node-redis.sh, apps-*.sh). A
# test that needs the devnode (its control socket, vectors, TLS, leader moves) is skipped and
# says why. Each run prints one line; the end is a table of passed / failed / skipped. Logs stay
# in $NORIKV_REAL_LOGS (default ./real-logs). Three nodes are given each other as seeds; when
# no shard of theirs elects a leader within 15 s, that column says so and only test_commands
# runs, to show what a user of such a cluster sees.
#
# Every node is run with tests/real/no-fallocate.so preloaded (NORIKV_SERVER_PRELOAD): the
# server preallocates two 128 MiB logs for each shard a request touches, 256 MiB of disk a
# shard; with fallocate refused it falls back to sparse files.
set -u
srcdir=${srcdir:-.}
: "${NORIKV_SERVER:?set NORIKV_SERVER to the path of a norikv-server binary}"
[ -x "$NORIKV_SERVER" ] || { echo "run.sh: $NORIKV_SERVER is not executable"; exit 2; }
NORIKV_SERVER=$(cd "$(dirname "$NORIKV_SERVER")" && pwd)/$(basename "$NORIKV_SERVER")
NORIKV_SERVER_PRELOAD=${NORIKV_SERVER_PRELOAD:-$(pwd)/tests/real/no-fallocate.so}
logs=${NORIKV_REAL_LOGS:-$(pwd)/real-logs}
mkdir -p "$logs"
export NORIKV_SERVER NORIKV_SERVER_PRELOAD srcdir
PY=/usr/bin/python3
table="$logs/table"
: > "$table"
failed_any=0

# counts from a log: "passed failed skipped"
e2e_counts() {
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    skip=$(grep -cE '^SKIP ' "$1")
    if [ -z "$line" ]; then echo "0 1 $skip"; return; fi
    echo "$(echo "$line" | cut -d' ' -f1) $(echo "$line" | cut -d' ' -f3) $skip"
}
check_counts() {
    line=$(grep -E '^[0-9]+%: Checks: ' "$1" | tail -n 1)
    [ -n "$line" ] || { echo "0 1 0"; return; }
    n=$(echo "$line" | sed 's/.*Checks: \([0-9]*\).*/\1/')
    f=$(echo "$line" | sed 's/.*Failures: \([0-9]*\).*/\1/')
    e=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
    echo "$((n - f - e)) $((f + e)) 0"
}
record() { # name nodes "passed failed skipped" [note]
    set -- "$1" "$2" $3 "${4:-}"
    printf '%-22s %s nodes: %3s passed, %3s failed, %3s skipped %s\n' "$1" "$2" "$3" "$4" "$5" \
        "$6" | tee -a "$table"
    [ "$4" -eq 0 ] || failed_any=1
}

# Whether three seeded nodes elect a leader for shard 0 within 15 s (their /health).
three_nodes_elect() {
    dir=$(mktemp -d /tmp/norikv-real3.XXXXXX)
    base=$(( ($$ % 5000) * 2 + 40000 ))
    seeds="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
    pids=
    for i in 0 1 2; do
        env NORIKV_NODE_ID="node$i" NORIKV_RPC_ADDR="127.0.0.1:$((base + i))" \
            NORIKV_HTTP_ADDR="127.0.0.1:$((base + 3 + i))" NORIKV_DATA_DIR="$dir/node$i" \
            NORIKV_SEED_NODES="$seeds" LD_PRELOAD="$NORIKV_SERVER_PRELOAD" \
            "$NORIKV_SERVER" "$dir/none.yaml" > "$dir/node$i.log" 2>&1 &
        pids="$pids $!"
    done
    elected=1 t=0
    while [ $t -lt 150 ]; do
        for i in 0 1 2; do
            if curl -s "http://127.0.0.1:$((base + 3 + i))/health" 2>/dev/null |
                grep -q '"leader_shards":[1-9]'; then
                elected=0
            fi
        done
        [ $elected -eq 0 ] && break
        sleep 0.1
        t=$((t + 1))
    done
    curl -s "http://127.0.0.1:$((base + 3))/health" > "$logs/three-nodes-health.json" 2>/dev/null
    for p in $pids; do kill -INT "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    rm -rf "$dir"
    return $elected
}

for n in ${NORIKV_SERVER_NODES_LIST:-1 3}; do
    export NORIKV_SERVER_NODES=$n
    topics="$srcdir"/tests/e2e/test_*.py
    if [ "$n" -gt 1 ] && ! three_nodes_elect; then
        echo "run.sh: $n seeded nodes elected no leader within 15 s ($logs/three-nodes-health.json):" \
            "only test_commands runs" | tee -a "$table"
        topics="$srcdir/tests/e2e/test_commands.py"
        NORIKV_E2E_TEST_TIMEOUT=60
        export NORIKV_E2E_TEST_TIMEOUT
    else
        if [ "$n" -eq 1 ]; then
            ./tests/integration/check_devnode > "$logs/check_devnode-$n.log" 2>&1
            record check_devnode "$n" "$(check_counts "$logs/check_devnode-$n.log")"
        fi
        ./tests/integration/check_kv > "$logs/check_kv-$n.log" 2>&1
        record check_kv "$n" "$(check_counts "$logs/check_kv-$n.log")"
        for js in ioredis node-redis apps-ioredis apps-node-redis; do
            sh "$srcdir/tests/e2e/$js.sh" > "$logs/$js-$n.log" 2>&1
            rc=$?
            if [ $rc -eq 77 ]; then
                record "$js" "$n" "0 0 1" "($(tail -n 1 "$logs/$js-$n.log" | cut -c1-60))"
            else
                record "$js" "$n" "$(e2e_counts "$logs/$js-$n.log")"
            fi
        done
    fi
    for t in $topics; do
        name=$(basename "$t" .py)
        "$PY" -B "$t" > "$logs/$name-$n.log" 2>&1
        record "$name" "$n" "$(e2e_counts "$logs/$name-$n.log")"
    done
done
echo "norikv-server: $NORIKV_SERVER; logs in $logs"
exit $failed_any
