#!/bin/sh
# The man page renders without a warning (groff -ww, and man when present)
# and has a section for every command `vmsim --help` lists.
# Usage: man_page.sh PATH/TO/vmsim PATH/TO/vmsim.1
set -u
vmsim=$1 page=$2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
status=0
groff -man -ww -z "$page" 2>"$err"
if [ -s "$err" ]; then
    echo "groff warns:" >&2
    cat "$err" >&2
    status=1
fi
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man -l "$page" >/dev/null 2>"$err"
    if [ -s "$err" ]; then
        echo "man warns:" >&2
        cat "$err" >&2
        status=1
    fi
fi
commands=$("$vmsim" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$commands" ] || { echo "vmsim --help lists no command" >&2; status=1; }
for cmd in $commands; do
    if ! grep -q "^\.SS \"vmsim $cmd[\" ]" "$page"; then
        echo "the man page has no section for 'vmsim $cmd'" >&2
        status=1
    fi
done
exit $status
