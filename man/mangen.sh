#!/bin/sh
# Writes a man page from its template (man/*.in), filling in what the programs know:
#   @CONFIG_KEYS@ on a line of its own: every key of `norikv-sidecar --print-config`,
#                 by section, with its default, whether SIGHUP reloads it, and its help
#   @COMMANDS@    on a line of its own: the command table of `norikv-sidecar --commands`
#   @VERSION@, @SYSCONFDIR@ anywhere
# so the pages list exactly the keys and commands of the binary they ship with.
# Usage: mangen.sh SIDECAR VERSION SYSCONFDIR TEMPLATE > PAGE
set -eu
sidecar=$1 version=$2 sysconfdir=$3 template=$4
tmp=${TMPDIR:-/tmp}/mangen.$$
trap 'rm -f "$tmp".keys "$tmp".cmds' EXIT

# roff-safe text: backslashes shown as such, no line taken for a request
roff_awk='
function esc(s) {
    gsub(/\\/, "\\e", s)
    return s
}
function line(s) {
    if (s ~ /^[.'"'"']/)
        s = "\\&" s
    print s
}'

"$sidecar" --print-config | awk "$roff_awk"'
/^\[/ { section = substr($0, 2, length($0) - 2); started = 1; help = ""; next }
!started { next }
/^# reloadable on SIGHUP$/ { when = "Reloadable on SIGHUP."; next }
/^# needs a restart$/ { when = "Needs a restart."; next }
/^# / { help = help (help == "" ? "" : " ") substr($0, 3); next }
/^[a-z_]+ *=/ {
    key = $0; sub(/ *=.*/, "", key)
    def = $0; sub(/^[^=]*= ?/, "", def)
    if (!printed[section]++) print ".SS [" section "]"
    print ".TP"
    if (def == "")
        line("\\fB" esc(key) "\\fR = (empty)")
    else
        line("\\fB" esc(key) "\\fR = \\fI" esc(def) "\\fR")
    line(esc(help) " " when)
    help = ""; when = ""
}' > "$tmp".keys

"$sidecar" --commands | awk "$roff_awk"'
/^\| Command \|/ || /^\|---/ { next }
/^\| `/ {
    row = $0
    gsub(/\\\|/, "\001", row)          # a | inside a cell is written \|
    n = split(row, cell, "|")
    syntax = cell[2]; summary = cell[3]
    gsub(/^ *`|` *$/, "", syntax); gsub(/^ +| +$/, "", summary)
    gsub(/\001/, "|", syntax); gsub(/\001/, "|", summary)
    gsub(/`/, "", summary)
    print ".TP"
    line("\\fB" esc(syntax) "\\fR")
    line(esc(summary))
}' > "$tmp".cmds

# a long prefix may be broken after any of its slashes (\: is a break point that prints
# nothing), so that no line is left too long to adjust
sysconfdir_roff=$(printf '%s\n' "$sysconfdir" | sed 's|/|/\\:|g; s|-|\\-|g')
awk -v version="$version" -v sysconfdir="$sysconfdir_roff" -v keys="$tmp".keys -v cmds="$tmp".cmds '
$0 == "@CONFIG_KEYS@" { while ((getline l < keys) > 0) print l; next }
$0 == "@COMMANDS@" { while ((getline l < cmds) > 0) print l; next }
{ gsub(/@VERSION@/, version); gsub(/@SYSCONFDIR@/, sysconfdir); print }' "$template"
