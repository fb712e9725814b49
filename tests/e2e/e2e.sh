#!/bin/sh
# Runs tests/e2e/e2e.py (the sidecar with redis-cli, redis-benchmark, redis-py and raw sockets)
# with Debian's Python, which has python3-redis. Skipped (77) when either is missing.
srcdir=${srcdir:-.}
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "e2e.sh: $PY is missing (Debian: python3): skipped"
    exit 77
fi
if ! "$PY" -c 'import redis' 2>/dev/null; then
    echo "e2e.sh: $PY has no redis module (Debian: python3-redis): skipped"
    exit 77
fi
exec "$PY" "$srcdir/tests/e2e/e2e.py" "$@"
