#!/bin/sh
# Keeps examples/README.md's excerpt true: runs the example the README
# names after "<!-- excerpt: NAME -->" through `vmsim run --no-color` and
# fails unless the fenced block after the marker appears, line for line and
# in one piece, in what the run prints.
# usage: check_excerpt.sh VMSIM README.md
set -eu
vmsim=$1
readme=$2
name=$(sed -n 's/^<!-- excerpt: \([A-Za-z0-9_]*\) -->$/\1/p' "$readme" | head -n 1)
[ -n "$name" ] || { echo "check_excerpt: no excerpt marker in $readme" >&2; exit 1; }
excerpt=$(awk -v m="<!-- excerpt: $name -->" '
  $0 == m { found = 1; next }
  found && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }' "$readme")
[ -n "$excerpt" ] || { echo "check_excerpt: empty excerpt for $name" >&2; exit 1; }
out=$("$vmsim" run --no-color "$(dirname "$readme")/$name.lua" 2>&1) || {
  echo "$out"; echo "check_excerpt: $name.lua failed" >&2; exit 1; }
case "$out" in
  *"$excerpt"*) echo "the excerpt of $name.lua matches its output" ;;
  *) printf '%s\n\ncheck_excerpt: the README excerpt above is not in the output of %s.lua:\n%s\n' \
       "$excerpt" "$name" "$out" >&2
     exit 1 ;;
esac
