#!/bin/sh
# ioredis 6 against norikv-sidecar, on the devnode's default (real-server) profile:
# tests/e2e/ioredis.js, run by run-js.sh.
exec "${srcdir:-.}/tests/e2e/run-js.sh" ioredis.sh ioredis ioredis.js
