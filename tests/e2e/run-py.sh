#!/bin/sh
# Runs one end-to-end topic file (tests/e2e/test_*.py; automake's PY_LOG_COMPILER) with
# Debian's Python, which has python3-redis. Skipped (77) when either is missing. -B: no
# __pycache__ in the source tree (read-only under make distcheck).
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "run-py.sh: $PY is missing (Debian: python3): skipped"
    exit 77
fi
if ! "$PY" -c 'import redis' 2>/dev/null; then
    echo "run-py.sh: $PY has no redis module (Debian: python3-redis): skipped"
    exit 77
fi
exec "$PY" -B "$@"
