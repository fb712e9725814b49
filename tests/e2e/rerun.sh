#!/bin/sh
# What friendly.sh and typed.sh share: rerun.sh LABEL FILE... runs each e2e topic file
# (the environment set by the caller), prints each one's result line and the failures, then
# "LABEL: N passed, M failed"; exit status 0 when nothing failed. Skipped (77) in the
# sanitizer build (the default run covers the code there) and without python3-redis.
label=$1
shift
[ -n "${NORIKV_SANITIZERS:-}" ] && { echo "$label: sanitizer build: skipped"; exit 77; }
PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! "$PY" -c 'import redis' 2>/dev/null; then
    echo "$label: $PY with python3-redis is missing: skipped"
    exit 77
fi
passed=0 failed=0
for t in "$@"; do
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
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
