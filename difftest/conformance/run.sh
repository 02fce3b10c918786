#!/bin/sh
# Runs every conformance scenario of this folder with vmsim-difftest --replay
# (each on vmsim and on the host kernel) and prints "N passed, M failed".
# Usage: run.sh PATH/TO/vmsim-difftest
tester=${1:?usage: run.sh PATH/TO/vmsim-difftest}
dir=$(dirname "$0")
passed=0
failed=0
# A scenario whose only difference is a fault count runs up to twice more:
# the host's background write-back may clean a dirty shared page mid-run
# (one more write-notify fault on the host), as vmsim-difftest --seeds allows.
agrees() { # SCENARIO
    out=$("$tester" --replay "$1" 2>&1) && return 0
    for again in 1 2; do
        case "$out" in *"first difference (faults)"*) ;; *) return 1 ;; esac
        if out=$("$tester" --replay "$1" 2>&1); then
            echo "$(basename "$1"): fault counts differed, agreed when run again"
            return 0
        fi
    done
    return 1
}
for scenario in "$dir"/*.txt; do
    if agrees "$scenario"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $(basename "$scenario") (rerun: $tester --replay $scenario)"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
