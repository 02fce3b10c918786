#!/bin/sh
# `vmsim run` from the outside: exit statuses, the messages of a script
# error and of failed expectations, arg, --json (every line a JSON object,
# checked by python3 when present), --stats, --quiet, --html, and the
# write-back of a dirty page after a script error.
# usage: tool_tests.sh VMSIM TOOL_DIR
set -u
vmsim=$1
dir=$2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-run-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failed=0

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    failed=1
}

# expect_status WANT COMMAND...: runs it, output in $scratch/out and err.
expect_status() {
    want=$1
    shift
    "$@" >"$scratch/out" 2>"$scratch/err"
    got=$?
    [ "$got" = "$want" ] || fail "$* exited $got, not $want: $(cat "$scratch/err")"
}

expect_in() { # FILE TEXT
    grep -qF -- "$2" "$scratch/$1" || fail "$1 lacks '$2': $(cat "$scratch/$1")"
}

expect_not_in() { # FILE TEXT
    ! grep -qF -- "$2" "$scratch/$1" || fail "$1 has '$2'"
}

# A script error: file:line: message, exit 1, the dirty page written back.
printf 'clean text\n' >"$scratch/data.txt"
expect_status 1 "$vmsim" run --quiet "$dir/error_after_store.lua" "$scratch"
expect_in err "error_after_store.lua:8: the script fails here"
[ "$(head -c 5 "$scratch/data.txt")" = DIRTY ] || fail "the dirty page was not written back"

# os.exit: the same write-back, and its code as the exit status.
printf 'clean text\n' >"$scratch/data.txt"
expect_status 3 "$vmsim" run --quiet "$dir/os_exit.lua" "$scratch"
[ "$(head -c 5 "$scratch/data.txt")" = EXIT! ] || fail "os.exit lost the dirty page"

# Failed expectations: each with file:line, expected and got; exit 1.
expect_status 1 "$vmsim" run "$dir/expect_fail.lua"
expect_in err "expect_fail.lua:2: expectation failed: arithmetic"
expect_in err "expect_fail.lua:3: expectation failed: the sum: expected 5, got 4"
expect_in err "2 expectations failed"
expect_not_in err "tables compare"
expect_in out "reached the end"

# arg and varargs.
expect_status 0 "$vmsim" run --quiet "$dir/args.lua" one "two words"

# An error in an event handler.
expect_status 1 "$vmsim" run --quiet "$dir/handler_error.lua"
expect_in err "handler_error.lua:5: handler refused the fault"

# Narration: each call with its results, the events under it.
expect_status 0 "$vmsim" run --no-color "$dir/calls.lua"
expect_in out 'task 1000: mmap(0x0, 8192, "rw", "private|anonymous")'
expect_in out 'task 1000: munmap(0x7ffff7ffd001, 4096) = nil, "EINVAL", 22'
expect_in out 'task 1000: store(0x7ffff7ffd000, "Hi\n\"quoted\"\x00\xff")'
expect_in out 'task 1000: load(0x'
expect_in out '= nil, "SIGSEGV", "SEGV_MAPERR", 0x'
expect_in out '= nil, "EINVAL", 22'
expect_in out 'fault  CPU 0  anonymous'
expect_in out 'walk   CPU 0  PGD['
expect_not_in out "$(printf '\033')"

# Colour on a terminal only (script(1) gives the run a pseudo-terminal).
if command -v script >/dev/null 2>&1; then
    script -qec "\"$vmsim\" run \"$dir/calls.lua\"" /dev/null >"$scratch/out" 2>&1 </dev/null
    expect_in out "$(printf '\033[1mmmap')"
    NO_COLOR=1 script -qec "\"$vmsim\" run \"$dir/calls.lua\"" /dev/null >"$scratch/out" 2>&1 </dev/null
    expect_not_in out "$(printf '\033')"
else
    echo "script(1) not found: colour on a terminal is not checked" >&2
fi

# --quiet: nothing told.
expect_status 0 "$vmsim" run --quiet "$dir/calls.lua"
[ ! -s "$scratch/out" ] || fail "--quiet printed: $(cat "$scratch/out")"

# --stats: the counters of each machine at its end.
expect_status 0 "$vmsim" run --quiet --stats "$dir/calls.lua"
expect_in out "counters of machine 1:"
expect_in out "minor_faults"

# --json: one object per line, calls and events, errno and signal named.
expect_status 0 "$vmsim" run --json --stats "$dir/calls.lua"
expect_in out '{"v":1,"type":"call","name":"mmap","target":{"machine":1,"task":1000},"args":["0x0",8192,"rw","private|anonymous"],"results":["0x'
expect_in out '"errno":"EINVAL"'
expect_in out '"signal":"SIGSEGV"'
expect_in out '{"v":1,"type":"event","kind":"fault"'
expect_in out '{"v":1,"type":"stats","machine":1,'
if command -v python3 >/dev/null 2>&1; then
    python3 - "$scratch/out" <<'PY' || fail "--json output is not one JSON object per line"
import json, sys
kinds = set()
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    obj = json.loads(line)
    assert obj["v"] == 1, n
    kinds.add(obj["type"])
    if obj["type"] == "call":
        for field in ("name", "target", "args", "results"):
            assert field in obj, (n, field)
assert kinds == {"call", "event", "stats"}, kinds
PY
else
    echo "python3 not found: the JSON lines are not parsed" >&2
fi

# The command line.
expect_status 0 "$vmsim" run --help
expect_in out "Usage: vmsim run"
expect_status 2 "$vmsim" run
expect_in err "missing script"
expect_status 2 "$vmsim" run --loud "$dir/calls.lua"
expect_in err "unknown option --loud"
expect_status 1 "$vmsim" run "$scratch/no-such-script.lua"
expect_in err "cannot open"
printf 'local x = = 1\n' >"$scratch/syntax.lua"
expect_status 1 "$vmsim" run "$scratch/syntax.lua"
expect_in err "syntax.lua:1:"
i=0
while [ $i -lt 64 ]; do # the same garbage every run: every byte value, scrambled
    printf '\377\000\001\033\177\200\n\r\t"[[=]]--%s\\' $i
    i=$((i + 1))
done >"$scratch/garbage.lua"
expect_status 1 "$vmsim" run "$scratch/garbage.lua"
expect_in err "garbage.lua"
printf '\033Lua' >"$scratch/bytecode.lua" # precompiled code is refused
expect_status 1 "$vmsim" run "$scratch/bytecode.lua"
expect_in err "attempt to load a binary chunk"
expect_status 0 "$vmsim" --help
expect_in out "run"

# --html FILE: the page is written, the narration unchanged; a script error
# still writes the page, with the error in its timeline; a file that cannot
# be written is an error (exit 1) and leaves nothing behind.
printf 'local m = vmsim.machine{ram = "16M", cpus = 1}\nlocal t = m:spawn("p")\nt:mmap(0, 4096, "rw", "private|anonymous")\n' >"$scratch/small.lua"
expect_status 0 "$vmsim" run --no-color "$scratch/small.lua"
cp "$scratch/out" "$scratch/plain"
expect_status 0 "$vmsim" run --no-color --html "$scratch/small.html" "$scratch/small.lua"
cmp -s "$scratch/out" "$scratch/plain" || fail "--html changed the narration"
expect_in small.html '<script type="application/json" id="model">{"v":3'
expect_in small.html '"title":"small.lua"'
expect_not_in small.html 'http://'
printf 'local m = vmsim.machine{ram = "16M", cpus = 1}\nm:spawn("p")\nerror("stop here")\n' >"$scratch/stops.lua"
expect_status 1 "$vmsim" run --quiet --html "$scratch/stops.html" "$scratch/stops.lua"
expect_in stops.html 'stops.lua:3: stop here'
expect_status 1 "$vmsim" run --quiet --html "$scratch/no/such/dir/x.html" "$scratch/small.lua"
expect_in err "vmsim run: cannot write"
expect_status 2 "$vmsim" run --html
expect_in err "option needs a file"

exit $failed
