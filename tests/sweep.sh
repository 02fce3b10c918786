#!/bin/sh
# vmsim sweep from the outside: a grid over two small traces (one named
# with a quote, a space and a $(...)) expanded into jobs, run for real by
# GNU parallel through run-parallel.sh, collected into a CSV whose row
# holds what `vmsim replay` run directly says, plotted as an SVG; one job
# of the Slurm array script run by the shell with SLURM_ARRAY_TASK_ID set
# writes the same JSON; missing, malformed and failed jobs are named; every
# bad grid or folder is exit 2 with a message. Skips (77), saying so,
# without GNU parallel.
# Usage: sweep.sh PATH/TO/vmsim
set -u
vmsim=$1
if ! command -v parallel >/dev/null 2>&1; then
    echo "sweep: skipped: GNU parallel is not installed (scripts/install-deps.sh installs it)"
    exit 77
fi
. "$(dirname "$0")/testlib.sh"
cd "$dir" || exit 1

# Two traces without mm calls: loads over 2 MiB (512 pages) and a loop of
# fetches; the second touches 64 pages only.
awk 'BEGIN { for (i = 0; i < 6000; i++) {
        printf "I  %08x,4\n", 4194304 + (i * 16) % 8192
        printf " L %08x,8\n", 268435456 + ((i * 7919) % 512) * 4096 + (i % 64) * 8
        if (i % 3 == 0) printf " S %08x,8\n", 536870912 + ((i * 13) % 64) * 4096 } }' >a.txt
awk 'BEGIN { for (i = 0; i < 3000; i++) printf " L %08x,8\n", 268435456 + (i % 64) * 4096 }' >b.txt
hostile="it's \$(touch pwned) a.vmt"
"$vmsim" convert a.txt -o "$hostile" || fail "convert a"
"$vmsim" convert b.txt -o b.vmt || fail "convert b"
mkdir traces && mv b.vmt traces/

cat >grid.txt <<'END'
# the test's grid: 2 traces x 2 L1 x 2 L2 = 8 jobs
trace = "it's $(touch pwned) a.vmt", traces/b.vmt
dtlb = 16:4, 64:4     # L1 data TLB
stlb = 64:4, 1536:12  # L2
END
out="$dir/sweep out"
"$vmsim" sweep grid.txt -o "$out" >sweep.log 2>&1 || fail "vmsim sweep: $(cat sweep.log)"
[ "$(wc -l <"$out/jobs.txt")" -eq 8 ] || fail "jobs.txt has $(wc -l <"$out/jobs.txt") lines, not 8"
grep -q "^#SBATCH --array=1-8$" "$out/run-slurm.sbatch" || fail "the Slurm script's array is not 1-8"
# deterministic: the same grid, the same jobs
"$vmsim" sweep grid.txt -o "$out 2" >/dev/null 2>&1 || fail "the second vmsim sweep"
sed "s|sweep out 2/|sweep out/|g" "$out 2/jobs.txt" | cmp -s - "$out/jobs.txt" || fail "two sweeps of one grid differ"

# GNU parallel, for real
sh "$out/run-parallel.sh" -j 2 >parallel.log 2>&1 || fail "run-parallel.sh: $(cat parallel.log)"
[ -e pwned ] || [ -e "$out/pwned" ] && fail "a trace's name ran as a command"
[ "$(ls "$out/results" | wc -l)" -eq 8 ] || fail "results/ holds $(ls "$out/results" | wc -l) files, not 8"
[ "$(awk 'NR > 1 && $7 == 0' "$out/joblog.txt" | wc -l)" -eq 8 ] || fail "the joblog has not 8 jobs that exited 0"

# collect: a header, then 8 rows in job order
"$vmsim" sweep --collect "$out" -o sweep.csv 2>collect.log || fail "collect: $(cat collect.log)"
grep -q "8 of 8 jobs collected" collect.log || fail "collect said: $(cat collect.log)"
[ "$(wc -l <sweep.csv)" -eq 9 ] || fail "the CSV has $(wc -l <sweep.csv) lines, not 9"
head -n 1 sweep.csv | grep -q "^job,trace,dtlb,stlb,accesses,l1_hits,l1_misses,l2_hits,l2_misses,walks," ||
    fail "the CSV's header: $(head -n 1 sweep.csv)"
[ "$(cut -d, -f1 sweep.csv | tr '\n' ' ')" = "job 1 2 3 4 5 6 7 8 " ] || fail "the rows are not in job order"
# job 7: the second trace, dtlb 64:4, stlb 64:4 (the last parameter changes fastest)
row=$(sed -n 8p sweep.csv)
[ "$(echo "$row" | cut -d, -f2-4)" = "traces/b.vmt,64:4,64:4" ] || fail "job 7's parameters: $row"
"$vmsim" replay --json -q --no-regions --no-lru --dtlb 64:4 --stlb 64:4 traces/b.vmt >direct.jsonl ||
    fail "the direct replay"
col() { # NAME: the CSV column's number
    head -n 1 sweep.csv | tr ',' '\n' | grep -nx "$1" | cut -d: -f1
}
for key in accesses l1_hits l1_misses l2_hits l2_misses walks walk_refs minflt pgtables; do
    want=$(grep '"scope":"total"' direct.jsonl | sed "s/.*\"$key\":\([0-9]*\).*/\1/")
    got=$(echo "$row" | cut -d, -f"$(col "$key")")
    [ -n "$want" ] && [ "$want" = "$got" ] || fail "job 7's $key: $got in the CSV, $want replayed directly"
done
# b.vmt's 64 pages fit a 64-entry L2 TLB: each misses when first touched,
# and again after its fault (docs/traces.md: a faulting access looks up twice)
l2=$(echo "$row" | cut -d, -f"$(col l2_misses)")
[ "$l2" -le 128 ] || fail "64 pages in a 64-entry L2 TLB missed $l2 times"
a_l2_small=$(sed -n 2p sweep.csv | cut -d, -f"$(col l2_misses)")
a_l2_big=$(sed -n 3p sweep.csv | cut -d, -f"$(col l2_misses)")
[ "$a_l2_big" -lt "$a_l2_small" ] || fail "512 pages: the 1536-entry L2 TLB missed $a_l2_big times, the 64-entry one $a_l2_small"

# the Slurm array's task 7, run by the shell, writes the same JSON
mv "$out/results/7.jsonl" parallel-7.jsonl
SLURM_ARRAY_TASK_ID=7 bash "$out/run-slurm.sbatch" >slurm.log 2>&1 || fail "run-slurm.sbatch: $(cat slurm.log)"
cmp -s parallel-7.jsonl "$out/results/7.jsonl" || fail "task 7 of the Slurm script wrote other JSON than parallel's job 7"
for task in 0 9 x ""; do
    SLURM_ARRAY_TASK_ID=$task bash "$out/run-slurm.sbatch" >slurm.log 2>&1
    [ $? -eq 2 ] || fail "the Slurm script with task '$task' did not exit 2"
    grep -q "run-slurm.sbatch: " slurm.log || fail "the Slurm script with task '$task' said: $(cat slurm.log)"
done

# the plot: L2 misses against the L2's size, a line per trace, dtlb fixed
"$vmsim" sweep --collect "$out" -o /dev/null --plot plot.svg --x stlb --y l2_misses --series trace \
    --where dtlb=64:4 2>plot.log || fail "the plot: $(cat plot.log)"
for want in '<title id="title">l2_misses against stlb</title>' '<desc>A line plot of l2_misses against stlb, one line per value of trace, for dtlb=64:4.' \
    "it's \$(touch pwned) a.vmt" 'traces/b.vmt' '#0072B2' '#D55E00' 'role="img"'; do
    grep -qF -- "$want" plot.svg || fail "the plot lacks '$want'"
done
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' plot.svg || fail "the plot is not XML"
fi
# a plot that would put two jobs on one point says which parameter varies
"$vmsim" sweep --collect "$out" -o /dev/null --plot p2.svg --x stlb --y walks --series trace 2>p2.log
[ $? -eq 2 ] && grep -q "'dtlb' varies too" p2.log || fail "an ambiguous plot: $(cat p2.log)"
"$vmsim" sweep --collect "$out" -o /dev/null --plot p2.svg --x nope --y walks 2>p2.log
[ $? -eq 2 ] && grep -q "not a parameter of the sweep (trace, dtlb, stlb)" p2.log || fail "--x nope: $(cat p2.log)"
"$vmsim" sweep --collect "$out" -o /dev/null --plot p2.svg --x stlb --y nope 2>p2.log
[ $? -eq 2 ] && grep -q "not a metric (accesses," p2.log || fail "--y nope: $(cat p2.log)"

# missing and malformed results are named; the CSV has the others
rm "$out/results/5.jsonl"
echo '{"v":1,"type":"label","name":"job","value":"6"' >"$out/results/6.jsonl"
echo 'stray' >"$out/results/notes.jsonl"
"$vmsim" sweep --collect "$out" -o partial.csv 2>collect.log
[ $? -eq 1 ] || fail "collecting with a missing and a malformed job did not exit 1"
grep -q "job 5: no result" collect.log || fail "job 5 missing, collect said: $(cat collect.log)"
grep -q "job 6: results/6.jsonl: line 1: " collect.log || fail "job 6 malformed, collect said: $(cat collect.log)"
grep -q "results/notes.jsonl: no job of jobs.txt writes it" collect.log || fail "a stray file, collect said: $(cat collect.log)"
grep -q "6 of 8 jobs collected; 1 missing, 1 malformed" collect.log || fail "collect's count: $(cat collect.log)"
[ "$(wc -l <partial.csv)" -eq 7 ] || fail "the partial CSV has $(wc -l <partial.csv) lines, not 7"

# a job that fails stops GNU parallel, which says which
printf 'trace = b.vmt\ndtlb = 16:4, 64:4\n' >traces/fails.txt
"$vmsim" sweep traces/fails.txt -o fails >/dev/null 2>&1 || fail "the sweep of fails.txt"
mv traces/b.vmt traces/b-moved.vmt
sh fails/run-parallel.sh -j 1 >parallel.log 2>&1
[ $? -ne 0 ] || fail "run-parallel.sh with a failing job exited 0"
grep -q "job 1: exit 1" parallel.log || fail "run-parallel.sh did not name the failed job: $(cat parallel.log)"
mv traces/b-moved.vmt traces/b.vmt

# bad grids and folders: exit 2 and a message
expect() { # WORDS GRID-TEXT [DIR]
    words=$1
    printf '%s\n' "$2" >bad.txt
    "$vmsim" sweep bad.txt -o "${3:-bad-out}" >out.log 2>err.log
    got=$?
    [ "$got" -eq 2 ] || fail "grid '$2' exited $got, not 2"
    grep -qF -- "$words" err.log || fail "grid '$2': no '$words' in: $(cat err.log)"
    [ -e bad-out/jobs.txt ] && fail "grid '$2' wrote jobs"
}
expect "unknown parameter 'colour'" "trace = traces/b.vmt
colour = red"
expect "bad.txt:2: dtlb = 64: bad value '64' for --dtlb: ENTRIES:WAYS expected" "trace = traces/b.vmt
dtlb = 64"
expect "dtlb.entries = 64: must be dtlb.ways (3) times a power of two" "trace = traces/b.vmt
dtlb = 64:3"
expect "bad.txt:2: ram = lots: bad value 'lots' for --phys" "trace = traces/b.vmt
ram = lots"
expect "'phys' sets what 'ram' (line 2) sets" "trace = traces/b.vmt
ram = 64M
phys = 1G"
expect "no parameter: the grid is empty" "# nothing here"
expect "no 'trace = FILE.vmt, ...' line" "dtlb = 64:4"
expect "bad.txt:1: trace 'missing.vmt': No such file or directory" "trace = missing.vmt"
expect "not a .vmt trace" "trace = grid.txt"
expect "bad.txt:1: trace 'traces': a folder, not a .vmt trace" "trace = traces"
expect "too many jobs: the grid's cross product passes 10000" "trace = traces/b.vmt
dtlb.entries = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101
stlb.entries = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100"
expect "bad.txt:2: 'trace' again (first on line 1)" "trace = traces/b.vmt
trace = traces/b.vmt"
expect "bad.txt:1: trace: the value 'traces/b.vmt' twice" "trace = traces/b.vmt, traces/b.vmt"
expect "bad.txt:1: a quoted value without its closing quote" 'trace = "traces/b.vmt'
expect "bad.txt:1: '=' expected after 'trace'" "trace traces/b.vmt"
expect "an empty value" "trace = traces/b.vmt,"
touch a-file
expect "cannot make the folder a-file/sub: Not a directory" "trace = traces/b.vmt" a-file/sub
expect "holds 8 results of an earlier sweep" "trace = traces/b.vmt" "$out"
"$vmsim" sweep nothing.txt -o x >/dev/null 2>err.log
[ $? -eq 2 ] && grep -q "nothing.txt: No such file" err.log || fail "a missing grid: $(cat err.log)"
"$vmsim" sweep --collect "$dir/traces" 2>err.log
[ $? -eq 2 ] && grep -q "not a sweep's folder" err.log || fail "--collect of another folder: $(cat err.log)"
for args in "grid.txt" "--collect" "grid.txt -o x --plot p.svg" "--collect $out --plot p.svg" "a b -o x"; do
    # shellcheck disable=SC2086
    "$vmsim" sweep $args >/dev/null 2>err.log
    [ $? -eq 2 ] || fail "vmsim sweep $args did not exit 2"
    grep -q "Try 'vmsim sweep --help'" err.log || fail "vmsim sweep $args: $(cat err.log)"
done

end_tests
echo "sweep: 8 jobs run by GNU parallel, collected and checked; the Slurm task, the plot and the errors too"
