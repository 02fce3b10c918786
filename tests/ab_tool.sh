#!/bin/sh
# make ab's program, built from two renamed copies of this build's library:
# both sides load the same bytes, the table has its rows, and bad arguments
# give a clear error and exit 2. (Building a baseline commit is left to
# `make ab` itself: it takes minutes.)
# usage: ab_tool.sh LIBVMSIM.A
. "$(dirname "$0")/testlib.sh"
lib=$1
top=$(cd "$(dirname "$0")/.." && pwd)

sh "$top/scripts/ab.sh" --libs "$lib" "$lib" --out "$dir" -- miss 2 4 20000 >"$dir/miss.txt" 2>&1 ||
    fail "the miss row failed: $(cat "$dir/miss.txt")"
for row in "A     best" "B     best" "host  best" "B/A   median"; do
    grep -q "^$row" "$dir/miss.txt" || fail "no '$row' line in: $(cat "$dir/miss.txt")"
done
grep -q "2 rounds of 20000 loads over 4096 KiB" "$dir/miss.txt" || fail "wrong heading: $(head -1 "$dir/miss.txt")"
"$dir/vmsim-ab" hit 2 4 20000 >"$dir/hit.txt" 2>&1 || fail "the hit row failed"
grep -q "over 16 KiB" "$dir/hit.txt" || fail "the hit row loads elsewhere: $(head -1 "$dir/hit.txt")"

for args in "bogus" "miss 0" "miss 2 0" "miss 2 4 x" "miss 1 2 3 4"; do
    # shellcheck disable=SC2086 # the arguments are words
    "$dir/vmsim-ab" $args >"$dir/err.txt" 2>&1
    rc=$?
    [ $rc = 2 ] || fail "vmsim-ab $args: exit $rc, not 2"
    grep -q "vmsim-ab\|usage" "$dir/err.txt" || fail "vmsim-ab $args: no message"
done
sh "$top/scripts/ab.sh" --libs "$lib" >/dev/null 2>&1 && fail "--libs with one library was accepted"
sh "$top/scripts/ab.sh" --libs "$lib" "$dir/none.a" --out "$dir" >/dev/null 2>&1 && fail "a missing library was accepted"
end_tests
