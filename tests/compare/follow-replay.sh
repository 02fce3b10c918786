#!/bin/sh
# follow-replay.sh VMSIM PROG [ARGS...]: `vmsim follow -o FILE` of a real
# program, then the recorded scenario replayed by `vmsim compare FILE` and
# by the Lua binding's vmsim.replay, which must agree on every step; then
# the same file with one recorded answer changed (exit 1 at its line), with
# a maps line changed (exit 1, in maps) and with a line that does not
# parse (exit 2, the line named). A program this machine lacks, or a host
# that refuses ptrace, skips the test (exit 77).
vmsim=$1
shift
if ! command -v "$1" >/dev/null 2>&1; then
    echo "skipped: $1 is not on this machine"
    exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-replay.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$vmsim" follow --quiet -o "$dir/run.txt" -- "$@" 2>&1)
status=$?
if [ "$status" = 2 ] && printf '%s\n' "$out" | grep -q "ptrace is refused"; then
    echo "skipped: this host refuses ptrace"
    exit 77
fi
[ "$status" = 0 ] || fail "vmsim follow exited $status: $out"

"$vmsim" compare --no-color "$dir/run.txt" >"$dir/compare.out" 2>&1 || fail "compare: $(tail -20 "$dir/compare.out")"
steps=$(sed -n 's/^all \([0-9]*\) steps agree with the kernel.s recorded answers.*/\1/p' "$dir/compare.out")
[ -n "$steps" ] || fail "compare says no agreement: $(tail -5 "$dir/compare.out")"
echo "compare: $steps steps agree"

# The pictures of the replayed machine: one step per compared step in the
# page, each with the program's own maps; the SVG of its address space.
prog=$(sed -n 's/^\(@[0-9]* \)\{0,1\}execve \([^ ]*\).*/\2/p' "$dir/run.txt" | tail -1) # the last run
prog=$(readlink -f "$prog")
"$vmsim" compare --no-color --html "$dir/run.html" --svg "$dir/svg" "$dir/run.txt" >/dev/null 2>&1 ||
    fail "compare --html --svg of the recorded run"
pagesteps=$(grep -o '{"m":1,"n":' "$dir/run.html" | wc -l)
[ "$pagesteps" = "$steps" ] || fail "the page has $pagesteps steps, compare $steps"
grep -q '"vs":"[0-9a-zA-Z_-]' "$dir/run.html" || fail "the page holds no VMA of the replayed machine"
grep -qF "\"$prog\"" "$dir/run.html" || fail "the page does not name the program $prog"
set -- "$dir"/svg/machine-1-task-*-address-space.svg
[ -s "$1" ] && grep -qF "$prog" "$1" || fail "no SVG of the replayed address space naming $prog"
[ -s "$dir/svg/machine-1-timeline.svg" ] || fail "no SVG timeline of the replay"
echo "compare --html --svg: $pagesteps steps drawn, the address space of $prog"

cat >"$dir/replay.lua" <<'LUA'
local r, err = vmsim.replay(arg[1])
if not r then print("error: " .. err) os.exit(2) end
for _, s in ipairs(r.steps) do
  if s.agrees and s.kernel and s.kernel ~= s.vmsim then
    print("the step at line " .. s.line .. " agrees, but its answers differ") os.exit(1)
  end
end
print(r.outcome .. " " .. #r.steps .. (r.difference and (" line " .. r.difference.line .. " " .. r.difference.aspect) or ""))
LUA
lua_out=$("$vmsim" run --quiet "$dir/replay.lua" "$dir/run.txt" 2>&1)
[ "$lua_out" = "agree $steps" ] || fail "vmsim.replay: '$lua_out', compare: $steps steps agree"
echo "vmsim.replay: $lua_out"

# A recorded answer changed: the first mmap's address one page higher.
line=$(grep -n '^mmap .* => 0x' "$dir/run.txt" | head -1 | cut -d: -f1)
awk -v n="$line" 'NR == n { sub(/=> 0x[0-9a-f]*$/, "=> 0x1000") } { print }' "$dir/run.txt" >"$dir/answer.txt"
"$vmsim" compare --no-color "$dir/answer.txt" >"$dir/answer.out" 2>&1
status=$?
[ "$status" = 1 ] || fail "a changed answer: compare exited $status"
grep -q "^DIFFERENT at line $line (mmap .*), in ret" "$dir/answer.out" || fail "a changed answer: $(tail -3 "$dir/answer.out")"
lua_out=$("$vmsim" run --quiet "$dir/replay.lua" "$dir/answer.txt" 2>&1)
case "$lua_out" in "differ "*" line $line ret") ;; *) fail "vmsim.replay of a changed answer: '$lua_out'" ;; esac
echo "a changed answer: line $line differs in ret, both ways"

# A maps line changed: the first r-xp line after the exec becomes rwxp.
line=$(grep -n '^maps .* r-xp ' "$dir/run.txt" | head -1 | cut -d: -f1)
awk -v n="$line" 'NR == n { sub(/ r-xp /, " rwxp ") } { print }' "$dir/run.txt" >"$dir/maps.txt"
"$vmsim" compare --no-color "$dir/maps.txt" >"$dir/maps.out" 2>&1
status=$?
[ "$status" = 1 ] || fail "a changed maps line: compare exited $status"
grep -q "^DIFFERENT at line .*, in maps" "$dir/maps.out" || fail "a changed maps line: $(tail -3 "$dir/maps.out")"
grep -q "^- .* rwxp " "$dir/maps.out" || fail "a changed maps line is not shown"
grep -q "^+ .* r-xp " "$dir/maps.out" || fail "vmsim's own line of the changed maps line is not shown"
grep -q "^vmsim's maps:" "$dir/maps.out" || fail "vmsim's maps are not listed"
echo "a changed maps line: differs in maps"

# A line that does not parse: exit 2, the line named, nothing run.
line=$(grep -n '^execve ' "$dir/run.txt" | head -1 | cut -d: -f1)
awk -v n="$line" 'NR == n { print "mmap 0x0 0x1000 READ PRIVATE|ANONYMOS -1 0x0 => 0x1000" } { print }' \
    "$dir/run.txt" >"$dir/bad.txt"
err=$("$vmsim" compare "$dir/bad.txt" 2>&1)
status=$?
[ "$status" = 2 ] || fail "a bad line: compare exited $status"
printf '%s\n' "$err" | grep -q "bad.txt:$line: mmap: bad or missing argument 4" || fail "a bad line: '$err'"
lua_out=$("$vmsim" run --quiet "$dir/replay.lua" "$dir/bad.txt" 2>&1)
printf '%s\n' "$lua_out" | grep -q "error: .*bad.txt:$line: mmap: bad" || fail "vmsim.replay of a bad line: '$lua_out'"
echo "a bad line: exit 2 naming line $line, both ways"
