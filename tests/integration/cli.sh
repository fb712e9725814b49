#!/bin/sh
# norikv-cli against a three-node devnode: each command's output and exit status, as an
# operator would check them; and the devnode's control socket through socat, as the README
# shows it. Loopback only; the devnode is stopped on any exit.
set -u
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
CLI=${NORIKV_CLI:-./norikv-cli}
dir=$(mktemp -d /tmp/norikv-cli-test.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# a free base port: retry while the devnode cannot bind
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    base=$(( (($$ * 7 + attempt * 7919) % 30000) + 20000 ))
    # the friendly profile: the vector commands need the Vector service, and topology and
    # stats expect the cluster view (every shard with its leader, round-robin leaders)
    "$DEVNODE" --nodes 3 --base-port "$base" --profile friendly --control "$dir/ctl" \
        > "$dir/out" 2>&1 &
    pid=$!
    for i in $(seq 1 100); do
        [ "$(grep -c 'ready on' "$dir/out")" -eq 3 ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [ "$(grep -c 'ready on' "$dir/out")" -eq 3 ] && break
    wait "$pid" 2>/dev/null
    pid=
done
[ -n "$pid" ] || { echo "devnode did not start"; exit 1; }

nodes="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
pass=0
fail=0
# check NAME EXPECTED_STATUS EXPECTED_STDOUT_PATTERN -- command...
check() {
    name=$1 want_status=$2 want_out=$3
    shift 4
    out=$(timeout 30 "$CLI" --nodes "$nodes" "$@" 2>"$dir/err")
    status=$?
    if [ "$status" -eq "$want_status" ] && printf '%s\n' "$out" | grep -Eq -- "$want_out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: status $status (want $want_status), stdout '$out', stderr '$(cat "$dir/err")'"
    fi
}
# check_err NAME EXPECTED_STATUS STDERR_PATTERN -- command...
check_err() {
    name=$1 want_status=$2 want_err=$3
    shift 4
    timeout 30 "$CLI" --nodes "$nodes" "$@" >/dev/null 2>"$dir/err"
    status=$?
    if [ "$status" -eq "$want_status" ] && grep -Eq -- "$want_err" "$dir/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: status $status (want $want_status), stderr '$(cat "$dir/err")'"
    fi
}

check put 0 '^0:1$' -- put user:1 alice
check get 0 '^alice$' -- get user:1
check get-stale 0 '^alice$' -- get user:1 --consistency stale_ok
check_err get-missing 1 'not found' -- get user:none
check cas-ok 0 '^0:2$' -- put user:1 bob --if-match 0:1
check_err cas-stale 3 'VERSIONMISMATCH: .*Version mismatch: expected term=0 index=1, got term=0 index=2' -- put user:1 carol --if-match 0:1
check_err cas-missing 3 'KEYMISSING: .*CAS failed: key does not exist' -- put user:2 x --if-match 0:1
check idem-first 0 '^0:3$' -- put user:1 dave --idempotency-key req-7
check idem-replay 0 '^0:3$' -- put user:1 erin --idempotency-key req-7
check get-after-replay 0 '^dave$' -- get user:1
check del 0 '^tombstoned 0:4$' -- del user:1
check_err get-deleted 1 'not found' -- get user:1
check ttl 0 '^0:' -- put temp v --ttl-ms 60000
check_err big-key 3 'INVALID: key of 1025 bytes exceeds the limit of 1024' -- put "$(head -c 1025 /dev/zero | tr '\0' k)" v
check_err usage-no-command 2 'no command given' --
check_err usage-args 2 'put takes 2 arguments' -- put onlykey
check_err usage-consistency 2 'consistency must be lease, linearizable or stale_ok' -- get k --consistency strong
check_err usage-if-match 2 'if-match takes TERM:INDEX' -- put k v --if-match 7
check_err usage-unknown 2 "unknown command 'frobnicate'" -- frobnicate
check vcreate 0 '^created$' -- vcreate docs 2 euclidean
check vcreate-again 0 '^exists$' -- vcreate docs 2 euclidean
check vinsert-a 0 '^1:' -- vinsert docs a 1,0
check vinsert-b 0 '^1:' -- vinsert docs b 0,2
check vsearch 0 '^a 0$' -- vsearch docs 2 1,0
check vsearch-vectors 0 '^b 2.2360680[0-9]* 0,2$' -- vsearch docs 2 1,0 --with-vectors
check vget 0 '^0,2$' -- vget docs b
check vdelete 0 '^deleted$' -- vdelete docs b
check_err vget-missing 1 'not found' -- vget docs b
check_err vsearch-dims 3 'INVALID: .*dimension mismatch' -- vsearch docs 2 1,0,0
check_err vinsert-bad 2 'numbers separated by commas' -- vinsert docs c 1,x
check vdrop 0 '^dropped$' -- vdrop docs
check topology 0 "^node node2 127.0.0.1:$((base + 1)) leader leads 341 shards$" -- topology
check stats 0 '"router":\{"total_nodes":3,"total_shards":1024,"cached_leaders":1024\}' -- stats
check bench 0 '^bench: ops_per_sec=[0-9]+ p50_us=[0-9]+ p99_us=[0-9]+ p999_us=[0-9]+ errors=0 cpu_us_per_op=[0-9]+\.[0-9]$' -- bench --ops 3000 --concurrency 20 --keys 500

# the control socket through socat, which sends its input and then EOF: each line it sent is
# answered, in order, the last one also without its newline, before the devnode closes
# check_ctl NAME INPUT EXPECTED_OUTPUT
check_ctl() {
    if ! command -v socat >/dev/null 2>&1; then
        fail=$((fail + 1))
        echo "FAIL $1: socat is not installed (Debian: socat; packaging/install-deps installs it)"
        return
    fi
    out=$(printf "$2" | timeout 20 socat - "UNIX-CONNECT:$dir/ctl" 2>&1)
    if [ "$out" = "$3" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $1: socat got '$out' (want '$3')"
    fi
}
check_ctl control-kill 'kill 3\n' 'OK'
check_ctl control-lines 'revive 3\nfrobnicate\nleader 1' "OK
ERR unknown command or wrong arguments: frobnicate (try help)
OK 2"
check put-after-revive 0 '^0:' -- put after:revive v

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
