#!/bin/sh
# Everyday app patterns (tests/e2e/apps-ioredis.js) through ioredis 6, on a sidecar that
# stores strings in the typed format, run by run-js.sh.
NORIKV_SIDECAR_ARGS=--sidecar.string_format=typed
export NORIKV_SIDECAR_ARGS
exec "${srcdir:-.}/tests/e2e/run-js.sh" apps-ioredis.sh ioredis apps-ioredis.js
