#!/bin/sh
# The layering rule, checked on the sources: every #include "..." of a file must name a
# header of a folder that file's layer may use. A layer sees its own folder and the ones
# below it; callers of the NoriKV client library see kv.h and nothing else of it.
#
#   common       -> common
#   wire         -> common, wire, the generated norikv.pb-c.h
#   norikv       -> common, wire, norikv, norikv/internal
#   sidecar, cli -> common, kv.h, their own folder
#   devnode      -> common, wire, devnode
#   tests/unit   -> whatever module it tests (white-box)
#   tests/integration, tests/fuzz -> common, wire, kv.h, sidecar (the fuzzers; check_cas,
#                    an integration test of the daemon's modules), their own; the command
#                    layer's fuzzer also the fake cluster client of tests/unit
srcdir=${srcdir:-.}
cd "$srcdir" || exit 1

allowed() { # layer -> folders whose headers it may include
    case $1 in
    src/common) echo "src/common" ;;
    src/wire) echo "src/common src/wire gen" ;;
    src/norikv | src/norikv/internal) echo "src/common src/wire gen src/norikv src/norikv/internal" ;;
    src/sidecar) echo "src/common api src/sidecar" ;;
    src/cli) echo "src/common api src/cli" ;;
    src/devnode) echo "src/common src/wire gen src/devnode" ;;
    # src/sidecar: check_cas puts the daemon's modules together over a devnode cluster
    tests/integration) echo "src/common src/wire gen api src/sidecar tests/integration" ;;
    tests/fuzz) echo "src/common api src/sidecar tests/unit" ;;
    *) echo "" ;;
    esac
}

headers_of() { # folder -> the header names it offers (.h, and the table rows of .def files)
    case $1 in
    gen) echo "norikv.pb-c.h" ;;
    api) echo "kv.h" ;;
    *) for h in "$1"/*.h "$1"/*.def; do [ -f "$h" ] && basename "$h"; done ;;
    esac
}

fails=0 checked=0
for f in $(find src tests/integration tests/fuzz -name '*.[ch]' | sort); do
    layer=$(dirname "$f")
    ok=$(for dir in $(allowed "$layer"); do headers_of "$dir"; done)
    for inc in $(sed -n 's/^#include "\(.*\)".*/\1/p' "$f"); do
        checked=$((checked + 1))
        [ "$inc" = config.h ] && continue
        if ! echo "$ok" | grep -qx "$inc"; then
            echo "$f: includes \"$inc\", which layer $layer may not use"
            fails=$((fails + 1))
        fi
    done
done
passed=$((checked - fails))
echo "layers: $checked includes checked"
echo "$passed passed, $fails failed"
[ "$fails" -eq 0 ]
