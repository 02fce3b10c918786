#!/bin/sh
# Runs every conformance scenario of this folder with vmsim-difftest --replay
# (each on vmsim and on the host kernel) and prints "N passed, M failed".
# Usage: run.sh PATH/TO/vmsim-difftest
tester=${1:?usage: run.sh PATH/TO/vmsim-difftest}
dir=$(dirname "$0")
passed=0
failed=0
for scenario in "$dir"/*.txt; do
    if "$tester" --replay "$scenario" >/dev/null 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $(basename "$scenario") (rerun: $tester --replay $scenario)"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
