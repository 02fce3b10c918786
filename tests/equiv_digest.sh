#!/bin/sh
# The equivalence digest (bench/equiv/digest.c) can fail, and says where:
# two runs of one build print the same lines; a machine whose L1 DTLB is
# changed to a shape no seed draws (2 entries, direct-mapped: other sets,
# other evictions) changes every seed's hash, although the steps are the
# same ones and the config is not part of the hash; --trace puts the first
# difference at an access; bad arguments are usage errors (exit 2).
# Usage: equiv_digest.sh PATH/TO/vmsim-equiv-digest
set -u
digest=$1
. "$(dirname "$0")/testlib.sh"

seeds="--seeds 1-6 --steps 600"
"$digest" $seeds >"$dir/a" || fail "first run exited $?"
"$digest" $seeds >"$dir/b" || fail "second run exited $?"
[ "$(grep -c '^seed [0-9]* hash [0-9a-f]\{16\} ev [0-9a-f]\{16\} ' "$dir/a")" = 6 ] ||
    fail "not one line per seed: $(cat "$dir/a")"
cmp -s "$dir/a" "$dir/b" || fail "two runs of the same build differ: $(diff "$dir/a" "$dir/b" | head -3)"

# The hash (field 4) of every seed changes with the DTLB; the draws do not.
"$digest" $seeds --dtlb 2:1 >"$dir/c" || fail "--dtlb 2:1 run exited $?"
grep -q ' d=2:1 ' "$dir/c" || fail "--dtlb 2:1 not in the config: $(head -1 "$dir/c")"
same=$(paste -d' ' "$dir/a" "$dir/c" | awk '{ n = NF / 2 } $4 == $(n + 4) { s++ } END { print s + 0 }')
[ "$same" = 0 ] || fail "$same of 6 seeds kept their hash with a 2-entry DTLB"
# ... while what does not depend on the TLBs' shapes stays: the draws made
# the same machines otherwise (the config column after d=).
cut -d'|' -f3 "$dir/a" | sed 's/ d=[0-9:]* / /' >"$dir/a.cfg"
cut -d'|' -f3 "$dir/c" | sed 's/ d=[0-9:]* / /' >"$dir/c.cfg"
cmp -s "$dir/a.cfg" "$dir/c.cfg" || fail "--dtlb changed the other draws: $(diff "$dir/a.cfg" "$dir/c.cfg" | head -3)"

# --trace: a line per step, the same twice; with the small DTLB the first
# step whose hashes differ is an access (a TLB's contents or counters).
"$digest" --trace 3 --steps 200 >"$dir/t1" || fail "--trace exited $?"
"$digest" --trace 3 --steps 200 >"$dir/t2" || fail "--trace exited $?"
[ "$(grep -c '^step ' "$dir/t1")" = 201 ] || fail "--trace: not a line per step and the setup's"
cmp -s "$dir/t1" "$dir/t2" || fail "--trace: two runs differ"
"$digest" --trace 3 --steps 200 --dtlb 2:1 >"$dir/t3" || fail "--trace --dtlb exited $?"
first=$(paste -d'\n' "$dir/t1" "$dir/t3" |
    awk 'NR % 2 { a = $3 " " $4; line = $0; next } $3 " " $4 != a { print $5; exit }')
case "$first" in
load | store | fetch | sweep-*) ;;
*) fail "--trace --dtlb 2:1: the first different step is not an access: '$first'" ;;
esac

# Bad arguments: exit 2, a message naming the program, nothing on stdout.
for bad in "--seeds 5-1" "--seeds" "--steps x" "--steps -1" "--every 0" "--dtlb 3:2" "--dtlb 4" \
    "--trace" "--bogus"; do
    "$digest" $bad >"$dir/out" 2>"$dir/err"
    rc=$?
    [ $rc = 2 ] || fail "'$bad' exited $rc, not 2"
    grep -q '^vmsim-equiv-digest: ' "$dir/err" || fail "'$bad': no message: $(cat "$dir/err")"
    [ -s "$dir/out" ] && fail "'$bad' printed on stdout"
done
"$digest" --help | grep -q '^usage: vmsim-equiv-digest' || fail "--help prints no usage"

end_tests
echo "equiv_digest: ok"
