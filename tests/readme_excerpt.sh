#!/bin/sh
# README.md quotes the tool's output between two marker comments:
#   <!-- output of: vmsim ARGS... -->
#   ```
#   ...lines of the output...
#   ```
#   <!-- end of output -->
# This runs `vmsim ARGS...` from the source folder and checks that every
# quoted line appears in its output, whole and in the same order (the
# excerpt may leave lines out between them).
# Usage: readme_excerpt.sh PATH/TO/vmsim PATH/TO/README.md
set -eu
vmsim=$1 readme=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command=$(sed -n 's/^<!-- output of: vmsim \(.*\) -->$/\1/p' "$readme")
[ -n "$command" ] || { echo "no '<!-- output of: vmsim ... -->' marker in $readme" >&2; exit 1; }
[ "$(printf '%s\n' "$command" | wc -l)" -eq 1 ] || { echo "more than one excerpt marker" >&2; exit 1; }
sed -n '/^<!-- output of: vmsim /,/^<!-- end of output -->$/p' "$readme" |
    sed -e '1d' -e '$d' | grep -v '^```' >"$tmp/excerpt" || true
[ -s "$tmp/excerpt" ] || { echo "the excerpt is empty or has no end marker" >&2; exit 1; }
cd "$(dirname "$readme")"
# shellcheck disable=SC2086 # the marker's words are the arguments
"$vmsim" $command >"$tmp/output"
awk -v out="$tmp/output" '
    BEGIN { n = 0; while ((getline line < out) > 0) output[++n] = line; at = 1 }
    {
        while (at <= n && output[at] != $0) at++
        if (at > n) { printf "README line %d is not in the output (in order): %s\n", NR, $0; bad = 1; exit }
        at++
    }
    END { exit bad }
' "$tmp/excerpt" >&2
echo "$(wc -l <"$tmp/excerpt") quoted lines found in order in the output of vmsim $command"
