#!/bin/sh
# The end-to-end suite once more, every devnode on the friendly profile (cluster-wide views
# and idempotency cache, round-robin leaders, vectors): make check runs the topic files on
# the default real-server profile; this run shows nothing depends on which one (rerun.sh).
srcdir=${srcdir:-.}
NORIKV_E2E_DEVNODE_ARGS="--profile friendly"
export NORIKV_E2E_DEVNODE_ARGS
exec sh "$srcdir/tests/e2e/rerun.sh" "friendly profile" "$srcdir"/tests/e2e/test_*.py
