#!/bin/sh
# The end-to-end suite once more, every devnode on the friendly profile (cluster-wide views
# and idempotency cache, round-robin leaders, vectors): make check runs the topic files on
# the default real-server profile; this run shows nothing depends on which one. Skipped in
# the sanitizer build (the real-profile run covers it there) and without python3-redis.
srcdir=${srcdir:-.}
[ -n "${NORIKV_SANITIZERS:-}" ] && { echo "friendly.sh: sanitizer build: skipped"; exit 77; }
PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! "$PY" -c 'import redis' 2>/dev/null; then
    echo "friendly.sh: $PY with python3-redis is missing: skipped"
    exit 77
fi
NORIKV_E2E_DEVNODE_ARGS="--profile friendly"
export NORIKV_E2E_DEVNODE_ARGS
passed=0 failed=0
for t in "$srcdir"/tests/e2e/test_*.py; do
    out=$("$PY" -B "$t" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    echo "$(basename "$t"): ${line:-no result (exit $rc)}"
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 20
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
    [ "$rc" -eq 0 ] || printf '%s\n' "$out" | grep -E '^FAIL' | head -n 20
done
echo "friendly profile: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
