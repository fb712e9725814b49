#!/bin/sh
# node-redis 5 against norikv-sidecar, on the devnode's friendly profile (Vector served, the
# cluster view): tests/e2e/node-redis.js (vector sets, subscribe), run by run-js.sh.
exec "${srcdir:-.}/tests/e2e/run-js.sh" node-redis.sh redis node-redis.js --profile friendly
