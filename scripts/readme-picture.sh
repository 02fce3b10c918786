#!/bin/sh
# The README's picture: the page-table tree of `vmsim demo` with the walk of
# its mapped file page highlighted, drawn by the tool's own SVG writer.
# usage: readme-picture.sh VMSIM OUT.svg   (writes OUT.svg)
#        readme-picture.sh --check VMSIM FILE.svg   (FILE.svg is what the
#        tool draws now: exit 1 and the command to redraw it if not)
set -u
check=0
if [ "$1" = --check ]; then
    check=1
    shift
fi
vmsim=$1 out=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-picture.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
"$vmsim" demo --no-color --svg "$dir/svg" >/dev/null || {
    echo "vmsim demo --svg failed" >&2
    exit 1
}
drawn="$dir/svg/machine-1-task-1000-pgtable.svg"
if [ "$check" = 1 ]; then
    cmp -s "$drawn" "$out" && exit 0
    echo "$out is not what vmsim demo --svg draws now: run 'make pictures'" >&2
    exit 1
fi
cp "$drawn" "$out"
