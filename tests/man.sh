#!/bin/sh
# The man pages: each renders without a warning (man --warnings), norikv-sidecar.conf(5)
# lists every key of the config table with its default, norikv-sidecar(8) every command
# of the command table, and norikv-cli(1) and norikv-devnode(1) every option their
# --help names. Run from the build directory, where make wrote the pages.
command -v man >/dev/null 2>&1 || { echo "man not installed (Debian: man-db): skipped"; exit 77; }
SIDECAR=${NORIKV_SIDECAR:-./norikv-sidecar}
CLI=${NORIKV_CLI:-./norikv-cli}
DEVNODE=${NORIKV_DEVNODE:-./norikv-devnode}
dir=$(mktemp -d /tmp/norikv-man.XXXXXX)
trap 'rm -rf "$dir"' EXIT

pass=0 fail=0
verdict() { # ok? name detail
    if [ "$1" -eq 0 ]; then pass=$((pass + 1)); else
        echo "FAIL $2: $3"
        fail=$((fail + 1))
    fi
}
render() { # page -> plain text, no hyphenation or justification, wide lines
    LC_ALL=C.UTF-8 MANWIDTH=400 man --nh --nj -l "$1" 2>/dev/null | col -bx
}

for page in man/norikv-sidecar.8 man/norikv-sidecar.conf.5 man/norikv-cli.1 man/norikv-devnode.1; do
    [ -s "$page" ]
    verdict $? "$page exists" "$(ls man 2>&1)"
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ]
    verdict $? "$page renders without warnings" "$warnings"
    render "$page" > "$dir/$(basename "$page").txt"
done

# every key, in its section, with its default
"$SIDECAR" --print-config | awk '
    /^\[/ { section = $0; next }
    /^[a-z_]+ *=/ { key = $0; sub(/ *=.*/, "", key); def = $0; sub(/^[^=]*= ?/, "", def)
                    print section "\t" key "\t" (def == "" ? "(empty)" : def) }' > "$dir/keys"
[ "$(wc -l < "$dir/keys")" -gt 20 ]
verdict $? "--print-config lists the keys" "$(cat "$dir/keys")"
conf5=$dir/norikv-sidecar.conf.5.txt
while IFS="	" read -r section key def; do
    awk -v s="$section" -v want="$key = $def" '
        { sub(/^ +/, "") }
        $0 == s { inside = 1; next }
        /^\[/ { inside = 0 }
        inside && $0 == want { found = 1 }
        END { exit !found }' "$conf5"
    verdict $? "norikv-sidecar.conf(5) lists $section $key = $def" "$(grep -n -- "$key" "$conf5")"
done < "$dir/keys"

# every command, as the command table writes its syntax
"$SIDECAR" --commands | sed -n 's/^| `\(.*\)` | .*/\1/p' | sed 's/\\|/|/g' > "$dir/commands"
[ "$(wc -l < "$dir/commands")" -gt 20 ]
verdict $? "--commands lists the commands" "$(cat "$dir/commands")"
while IFS= read -r syntax; do
    # a tag shorter than the indent shares its line with the text
    awk -v want="       $syntax" 'index($0, want) == 1 && (length($0) == length(want) ||
        substr($0, length(want) + 1, 1) == " ") { found = 1 } END { exit !found }' \
        "$dir/norikv-sidecar.8.txt"
    verdict $? "norikv-sidecar(8) lists '$syntax'" "$(grep -n -- "$(echo "$syntax" | cut -d' ' -f1)" "$dir/norikv-sidecar.8.txt" | head -3)"
done < "$dir/commands"

# every long option of the other programs' --help
for prog in "$CLI:norikv-cli.1" "$DEVNODE:norikv-devnode.1"; do
    bin=${prog%%:*} page=${prog#*:}
    opts=$("$bin" --help | grep -o -- '--[a-z][a-z-]*[a-z]' | sort -u)
    [ -n "$opts" ]
    verdict $? "$bin --help names options" "$("$bin" --help 2>&1 | head -3)"
    for opt in $opts; do
        grep -qe "$opt\\b" "$dir/$page.txt"
        verdict $? "$page names $opt" ""
    done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
