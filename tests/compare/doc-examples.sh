#!/bin/sh
# Runs every example of a document with `vmsim compare` and checks the
# outcome its marker names. A marker is an HTML comment on the line before
# the example's fenced block:
#   <!-- example NAME: agree [OPTIONS] -->      exit status 0
#   <!-- example NAME: differ [OPTIONS] -->     exit status 1
#   <!-- example NAME: bad "REGEX" -->          exit status 2, message matching REGEX
# The block is written to NAME.txt, so messages name that file.
# Usage: doc-examples.sh DOC VMSIM
doc=${1:?usage: doc-examples.sh DOC VMSIM}
vmsim=${2:?usage: doc-examples.sh DOC VMSIM}
expect="$(cd "$(dirname "$0")" && pwd)/expect.sh"
case $vmsim in /*) ;; *) vmsim="$(pwd)/$vmsim" ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v dir="$dir" '
    /^<!-- example [A-Za-z0-9_-]+: / {
        name = $3; sub(/:$/, "", name)
        rest = $0; sub(/^<!-- example [^ ]+ /, "", rest); sub(/ -->$/, "", rest)
        print name "\t" rest > (dir "/list")
        want = 1; next
    }
    want && /^```/ { want = 0; block = 1; file = dir "/" name ".txt"; printf "" > file; next }
    block && /^```/ { block = 0; close(file); next }
    block { print > file }
' "$doc"
[ -s "$dir/list" ] || { echo "no examples in $doc"; exit 1; }
cd "$dir" || exit 1
failed=0
count=0
while IFS="$(printf '\t')" read -r name rest; do
    count=$((count + 1))
    outcome=${rest%% *}
    args=${rest#"$outcome"}
    case $outcome in
    agree) set -- 0 "^all [0-9]+ steps agree" ;;
    differ) set -- 1 "^DIFFERENT at " ;;
    bad)
        regex=$(printf '%s' "$args" | sed -E 's/^ *"//; s/"$//')
        args=""
        set -- 2 "$regex"
        ;;
    *) echo "$name: unknown outcome '$outcome'"; failed=$((failed + 1)); continue ;;
    esac
    # shellcheck disable=SC2086 # the options are words
    if sh "$expect" "$1" "$2" "$vmsim" compare --no-color $args "$name.txt" >"$name.out" 2>&1; then
        echo "ok: $name ($outcome)"
    else
        cat "$name.out"
        echo "FAILED: $name (expected $outcome)"
        failed=$((failed + 1))
    fi
done <"$dir/list"
echo "$count examples, $failed failed"
[ "$failed" -eq 0 ]
