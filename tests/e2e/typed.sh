#!/bin/sh
# The data topics once more with every sidecar storing strings in the typed format
# (string_format typed, README "Types and TTLs"): make check runs them with raw strings
# (the default); this run shows each command answers as Redis does under both formats
# (rerun.sh).
srcdir=${srcdir:-.}
NORIKV_E2E_SIDECAR_ARGS="--sidecar.string_format=typed"
export NORIKV_E2E_SIDECAR_ARGS
d="$srcdir/tests/e2e"
exec sh "$d/rerun.sh" "typed strings" "$d/test_commands.py" "$d/test_strings.py" \
    "$d/test_cas.py" "$d/test_hashes_sets.py" "$d/test_zsets_lists.py" "$d/test_clients.py" \
    "$d/test_protocol.py"
