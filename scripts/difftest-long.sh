#!/bin/sh
# Runs vmsim-difftest over a seed range in one niced process per core
# (JOBS, default nproc; each takes a slice of the range) and merges what
# they print: each slice's lines in seed order, then one total
# "N passed, M failed" line (and how many seeds agreed only when run again).
# Exit status 1 if any seed failed.
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
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
case "$jobs" in *[!0-9]*|''|0) jobs=2 ;; esac
count=$((last - first + 1))
[ "$jobs" -le "$count" ] || jobs=$count
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
pids=""
i=0
while [ "$i" -lt "$jobs" ]; do # slice i: seeds [lo, hi]
    lo=$((first + count * i / jobs)) hi=$((first + count * (i + 1) / jobs - 1))
    run "$lo" "$hi" "$logs/$i" "$@" &
    pids="$pids $!"
    i=$((i + 1))
done
for pid in $pids; do
    wait "$pid"
done
passed=0 failed=0 steps=0
i=0
while [ "$i" -lt "$jobs" ]; do
    f=$logs/$i
    i=$((i + 1))
    grep -v -e '^[0-9]* passed, [0-9]* failed$' -e '^([0-9]* steps in agreeing sequences)$' "$f" || true
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$f" | tail -n 1)
    [ -n "$line" ] || [ ! -s "$f" ] || { echo "a slice printed no total (crashed?)" >&2; failed=$((failed + 1)); }
    [ -n "$line" ] || continue
    passed=$((passed + ${line%% passed*}))
    rest=${line#*, }
    failed=$((failed + ${rest%% failed}))
    s=$(sed -n 's/^(\([0-9]*\) steps in agreeing sequences)$/\1/p' "$f" | tail -n 1)
    steps=$((steps + ${s:-0}))
done
reruns=$(cat "$logs"/* | grep -c 'agreed when run again' || true)
changed=$(cat "$logs"/* | grep -c 'failed while the host changed' || true)
echo "($steps steps in agreeing sequences; $reruns seeds agreed when run again)"
[ "$changed" -eq 0 ] || echo "($changed of the failed seeds ran while the host changed: run them again)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
