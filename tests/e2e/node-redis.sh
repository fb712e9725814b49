#!/bin/sh
# node-redis 5 against norikv-sidecar, on the devnode's friendly profile (Vector served, the
# cluster view): tests/e2e/node-redis.js (vector sets, subscribe), run by run-js.sh.
if [ -n "${NORIKV_SERVER:-}" ]; then
    echo "node-redis.sh: needs the devnode: the real server serves no Vector service and its" \
        "one-node view never moves a leader: skipped"
    exit 77
fi
exec "${srcdir:-.}/tests/e2e/run-js.sh" node-redis.sh redis node-redis.js --profile friendly
