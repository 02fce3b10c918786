#!/bin/sh
# vmsim convert from the outside: lackey text into .vmt and back is the
# same text, byte for byte; ChampSim records become a fetch, loads and
# stores; `--to info` counts them; bad input is an error naming its place
# (exit 1), a bad command line a usage error (exit 2); nothing crashes.
# Usage: trace_convert.sh PATH/TO/vmsim
set -u
vmsim=$1
. "$(dirname "$0")/testlib.sh"

# lackey's own spelling, as valgrind --tool=lackey --trace-mem=yes prints it
cat >"$dir/in.txt" <<'END'
I  0401ab70,3
 L 1ffefffd48,8
 S 1ffefffd40,8
 M 0421c7f0,4
I  0401ab73,5
 L 04a1f000,32
I  ffffffffff600000,64
END
"$vmsim" convert "$dir/in.txt" -o "$dir/t.vmt" || fail "lackey into vmt"
"$vmsim" convert --to lackey "$dir/t.vmt" -o "$dir/back.txt" || fail "vmt into lackey"
cmp -s "$dir/in.txt" "$dir/back.txt" || fail "the round trip changed the text: $(diff "$dir/in.txt" "$dir/back.txt")"
# from standard input to standard output, with ==PID== lines skipped
{ echo "==42== Lackey"; cat "$dir/in.txt"; } | "$vmsim" convert --from lackey - | "$vmsim" convert --to lackey - >"$dir/pipe.txt" ||
    fail "through pipes"
cmp -s "$dir/in.txt" "$dir/pipe.txt" || fail "the piped round trip changed the text"
"$vmsim" convert --to info "$dir/t.vmt" >"$dir/info" || fail "info"
for want in "fetch 3" "load 2" "store 1" "modify 1"; do
    grep -qx "$want" "$dir/info" || fail "info lacks '$want': $(cat "$dir/info")"
done

# two ChampSim records: ip, branch bytes, registers, 2 destination and 4 source addresses
printf '\000\020\100\000\000\000\000\000\000\000\000\000\000\000\000\000' >"$dir/cs.bin"
printf '\000\020\140\000\000\000\000\000\000\000\000\000\000\000\000\000' >>"$dir/cs.bin"
printf '\000\000\377\177\000\000\000\000\000\000\000\000\000\000\000\000' >>"$dir/cs.bin"
printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >>"$dir/cs.bin"
head -c 64 "$dir/cs.bin" >>"$dir/cs.bin"
"$vmsim" convert --from champsim "$dir/cs.bin" -o "$dir/cs.vmt" || fail "champsim into vmt"
"$vmsim" convert --to lackey "$dir/cs.vmt" >"$dir/cs.txt" || fail "champsim vmt into lackey"
printf 'I  00401000,1\n L 7fff0000,1\n S 00601000,1\nI  00401000,1\n L 7fff0000,1\n S 00601000,1\n' >"$dir/cs.want"
cmp -s "$dir/cs.want" "$dir/cs.txt" || fail "champsim records: $(cat "$dir/cs.txt")"

# errors: a clear message and exit 1, never a crash
expect() { # STATUS WORDS CMD...
    want=$1 words=$2
    shift 2
    "$@" >"$dir/out" 2>"$dir/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "$* exited $got, not $want"
    grep -q -- "$words" "$dir/err" || fail "$*: no '$words' in: $(cat "$dir/err")"
}
printf 'I  0401ab70,3\nX 1,1\n' >"$dir/bad.txt"
expect 1 "line 2: not a lackey line" "$vmsim" convert "$dir/bad.txt" -o "$dir/x.vmt"
head -c 100 "$dir/cs.bin" >"$dir/cut.bin"
expect 1 "truncated: 36 bytes after record 1" "$vmsim" convert --from champsim "$dir/cut.bin" -o "$dir/x.vmt"
head -c 40 "$dir/t.vmt" >"$dir/cut.vmt"
expect 1 "truncated" "$vmsim" convert --to info "$dir/cut.vmt"
expect 1 "truncated" "$vmsim" replay "$dir/cut.vmt"
expect 1 "bad magic" "$vmsim" replay "$dir/in.txt"
expect 1 "No such file" "$vmsim" replay "$dir/none.vmt"
expect 2 "one side must be vmt" "$vmsim" convert --from lackey --to lackey "$dir/in.txt"
expect 2 "bad value" "$vmsim" replay --ram 0 "$dir/t.vmt"
expect 2 "missing value" "$vmsim" replay "$dir/t.vmt" --ram
expect 2 "missing -o" "$vmsim" record -- true
# the config options: each value checked by its parser, the whole machine
# by vms_config_check, before anything runs
expect 2 "--set 'nope' is not a config field" "$vmsim" replay --set nope=1 "$dir/t.vmt"
expect 2 "--set pcid: 'x' is not a number" "$vmsim" replay --set pcid=x "$dir/t.vmt"
expect 2 "bad value '64' for --dtlb: ENTRIES:WAYS expected" "$vmsim" replay --dtlb 64 "$dir/t.vmt"
expect 2 "bad value ' 64:4' for --stlb" "$vmsim" replay --stlb " 64:4" "$dir/t.vmt"
expect 2 "the machine's config: pde_cache" "$vmsim" replay --pde-cache 32:3 "$dir/t.vmt"
expect 2 "the machine's config: dtlb.ways" "$vmsim" replay --set dtlb.ways=0 "$dir/t.vmt"
expect 2 "bad --label '=x'" "$vmsim" replay --label =x "$dir/t.vmt"
expect 1 "cannot write $dir/no/r.jsonl.part" "$vmsim" replay -o "$dir/no/r.jsonl" "$dir/t.vmt"
# --label lines come first; -o writes the report whole, or leaves FILE.part
"$vmsim" replay --json -q --no-lru --label job=7 --label "name=a \"b\"" --set dtlb.entries=32 \
    --pml4e-cache 0:0 -o "$dir/r.jsonl" "$dir/t.vmt" >"$dir/out" || fail "replay -o"
[ -s "$dir/out" ] && fail "replay -o wrote on standard output"
[ "$(sed -n 1p "$dir/r.jsonl")" = '{"v":1,"type":"label","name":"job","value":"7"}' ] || fail "the first label: $(sed -n 1p "$dir/r.jsonl")"
[ "$(sed -n 2p "$dir/r.jsonl")" = '{"v":1,"type":"label","name":"name","value":"a \"b\""}' ] || fail "the second label: $(sed -n 2p "$dir/r.jsonl")"
sed -n 3p "$dir/r.jsonl" | grep -q '"type":"replay"' || fail "no replay line after the labels"
[ -e "$dir/r.jsonl.part" ] && fail "replay -o left its .part file"
# an imported trace replays: its memory made, figures for its regions
"$vmsim" replay --no-lru "$dir/t.vmt" >"$dir/replay.txt" 2>"$dir/notes" || fail "replay of an imported trace"
grep -q "an anonymous VMA" "$dir/notes" || fail "no note of the VMAs made: $(cat "$dir/notes")"
grep -q "^mmap@0x" "$dir/replay.txt" || fail "no region of a made VMA: $(cat "$dir/replay.txt")"
end_tests
echo "trace_convert: ok"
