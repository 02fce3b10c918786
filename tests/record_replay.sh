#!/bin/sh
# vmsim record and vmsim replay of a tiny program (tests/record_tiny.c): the
# trace holds its exec image, its mm calls and its accesses; the replay runs
# it at the traced addresses without a signal or a differing call, and puts
# the program's own page faults in the right regions: 5 in its mmap, 3 in
# its heap; the 2 in anonymous memory right after a data file's mapping in
# the mmap's region too, not the file's (no bss follows a data file).
# Skipped (77) where valgrind is missing.
# Usage: record_replay.sh PATH/TO/vmsim PATH/TO/record_tiny
set -u
vmsim=$1
tiny=$2
if ! command -v valgrind >/dev/null 2>&1; then
    echo "record_replay: skipped: valgrind is missing (scripts/install-deps.sh installs it)"
    exit 77
fi
. "$(dirname "$0")/testlib.sh"

printf 'data, not code\n' >"$dir/data.bin"
"$vmsim" record -o "$dir/tiny.vmt" -- "$tiny" "$dir/data.bin" 2>"$dir/record.err" || { cat "$dir/record.err"; fail "record"; }
grep -q "natively [0-9]* minor" "$dir/record.err" || fail "record: no native fault count: $(cat "$dir/record.err")"
"$vmsim" convert --to info "$dir/tiny.vmt" >"$dir/info" || fail "convert --to info"
grep -qx "exec=$(realpath "$tiny")" "$dir/info" || fail "no exec image in: $(cat "$dir/info")"
for kind in mmap munmap mprotect brk segment fetch load store; do
    grep -q "^$kind [1-9]" "$dir/info" || fail "no $kind record in: $(cat "$dir/info")"
done
"$vmsim" replay --json --no-lru -q "$dir/tiny.vmt" >"$dir/replay.json" || fail "replay"
head -n 1 "$dir/replay.json" | grep -q '"exec_done":true,.*"mm_differ":0,"vmas_made":0,"signals":0,' ||
    fail "replay: $(head -n 1 "$dir/replay.json")"
grep -q '"scope":"region","name":"heap","accesses":3,.*"minflt":3,"majflt":0,' "$dir/replay.json" ||
    fail "the heap's 3 faults: $(grep heap "$dir/replay.json")"
grep -q '"scope":"region","name":"mmap@0x[0-9a-f]*","accesses":5,.*"minflt":5,"majflt":0,' "$dir/replay.json" ||
    fail "the mmap's 5 faults: $(grep mmap@ "$dir/replay.json")"
grep -q '"scope":"region","name":"mmap@0x[0-9a-f]*","accesses":2,.*"minflt":2,"majflt":0,' "$dir/replay.json" ||
    fail "the 2 faults after the data file: $(grep region "$dir/replay.json")"
grep -q '"scope":"region","name":"data.bin","accesses":1,.*"minflt":0,"majflt":1,' "$dir/replay.json" ||
    fail "the data file's one read: $(grep region "$dir/replay.json")"
grep -q '"type":"native","native_minflt":[1-9]' "$dir/replay.json" || fail "no native line"
if command -v python3 >/dev/null 2>&1; then # every line is JSON
    python3 -c 'import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' "$dir/replay.json" || fail "replay --json wrote a line that is not JSON"
fi
# the text report and the curve
"$vmsim" replay -q --ram 4M "$dir/tiny.vmt" --svg "$dir/curve.svg" >"$dir/replay.txt" || fail "replay --ram"
grep -q "^memory-size curve" "$dir/replay.txt" || fail "no memory-size curve"
grep -q "^ *4M .*(vmsim" "$dir/replay.txt" || fail "no vmsim row at 4M"
grep -q "<polyline" "$dir/curve.svg" || fail "no SVG curve"
end_tests
echo "record_replay: ok"
