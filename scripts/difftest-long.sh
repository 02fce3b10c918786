#!/bin/sh
# Runs vmsim-difftest over a seed range in two processes (one per half of
# the range, each niced) and merges what they print: each half's lines in
# seed order, then one total "N passed, M failed" line (and how many seeds
# agreed only when run again). Exit status 1 if any seed failed.
# usage: difftest-long.sh VMSIM-DIFFTEST A-B STEPS [OUT-DIR [OPTION...]]
# (an empty OUT-DIR keeps no scenarios; OPTIONs go to the tester, e.g.
# --no-shrink)
set -eu
tester=$1 range=$2 steps=$3 out=${4:-}
shift 3
if [ $# -gt 0 ]; then shift; fi
first=${range%-*} last=${range#*-}
case "$first$last" in *[!0-9]*|'') echo "seeds must be A-B, got '$range'" >&2; exit 2 ;; esac
[ "$first" -le "$last" ] || { echo "seeds: $first > $last" >&2; exit 2; }
mid=$(( (first + last) / 2 ))
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run() { # A B LOG OPTION...
    lo=$1 hi=$2 log=$3
    shift 3
    if [ -n "$out" ]; then
        nice "$tester" --seeds "$lo-$hi" --steps "$steps" --out "$out" "$@" >"$log" 2>&1 || true
    else
        nice "$tester" --seeds "$lo-$hi" --steps "$steps" "$@" >"$log" 2>&1 || true
    fi
}
[ -n "$out" ] && mkdir -p "$out"
run "$first" "$mid" "$logs/a" "$@" &
a=$!
if [ "$mid" -lt "$last" ]; then
    run $((mid + 1)) "$last" "$logs/b" "$@" &
    b=$!
    wait "$b"
else
    : >"$logs/b"
fi
wait "$a"
passed=0 failed=0 steps=0
for f in "$logs/a" "$logs/b"; do
    grep -v -e '^[0-9]* passed, [0-9]* failed$' -e '^([0-9]* steps in agreeing sequences)$' "$f" || true
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$f" | tail -n 1)
    [ -n "$line" ] || [ ! -s "$f" ] || { echo "a half printed no total (crashed?)" >&2; failed=$((failed + 1)); }
    [ -n "$line" ] || continue
    passed=$((passed + ${line%% passed*}))
    rest=${line#*, }
    failed=$((failed + ${rest%% failed}))
    s=$(sed -n 's/^(\([0-9]*\) steps in agreeing sequences)$/\1/p' "$f" | tail -n 1)
    steps=$((steps + ${s:-0}))
done
reruns=$(cat "$logs/a" "$logs/b" | grep -c 'agreed when run again' || true)
echo "($steps steps in agreeing sequences; $reruns seeds agreed when run again)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
