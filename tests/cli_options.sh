#!/bin/sh
# The command line as users expect it: `vmsim --help` lists the commands,
# each command answers --help, and an unknown option, a stray argument or
# an unknown command is a usage error (exit 2) that names it on stderr.
# Usage: cli_options.sh PATH/TO/vmsim
set -u
vmsim=$1
. "$(dirname "$0")/testlib.sh"
out=$dir/out err=$dir/err

# run STATUS ARGS...: runs vmsim ARGS and checks its exit status.
run() {
    want=$1
    shift
    "$vmsim" "$@" >"$out" 2>"$err"
    got=$?
    [ "$got" -eq "$want" ] || fail "vmsim $* exited $got, not $want"
}

# names TEXT FILE: FILE holds TEXT (a fixed string).
names() {
    grep -qF -- "$1" "$2" || fail "no '$1' in the output of the last call"
}

run 0 --version
grep -qx "vmsim [0-9][0-9.]*" "$out" || fail "--version printed: $(cat "$out")"
run 0 -V
for extra in extra --help -x; do
    run 2 --version "$extra"
    names "'$extra'" "$err"
    [ -s "$out" ] && fail "--version $extra printed on stdout"
    run 2 --help "$extra"
    names "'$extra'" "$err"
done
run 2
names "missing command" "$err"
run 2 --no-such-option
names "unknown option '--no-such-option'" "$err"
run 2 no-such-command
names "unknown command 'no-such-command'" "$err"

run 0 --help
names "Usage: vmsim" "$out"
# The commands: the lines of the Commands section, "  NAME  summary".
commands=$(sed -n '/^Commands:/,/^$/p' "$out" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$commands" ] || fail "vmsim --help lists no command"
for cmd in $commands; do
    run 0 "$cmd" --help
    names "Usage: vmsim $cmd" "$out"
    [ -s "$err" ] && fail "vmsim $cmd --help wrote on stderr"
    run 2 "$cmd" --no-such-option
    names "--no-such-option" "$err"
done

# The picture options: a missing value is a usage error; a file that cannot
# be written stops the command before it runs, with the file named.
for cmd in run demo compare; do
    run 2 "$cmd" --perfetto
    names "--perfetto needs a file" "$err"
done
run 1 run --perfetto /nonexistent-dir/t.json /dev/null
names "cannot write /nonexistent-dir/t.json" "$err"
run 1 demo --perfetto /nonexistent-dir/t.json
names "cannot write /nonexistent-dir/t.json" "$err"
[ -s "$out" ] && fail "vmsim demo ran although its --perfetto file cannot be written"
for opt in --dot --svg; do
    run 1 demo "$opt" /nonexistent-dir/sub
    names "cannot make the folder /nonexistent-dir/sub" "$err"
done
for cmd in run demo compare; do
    run 2 "$cmd" --walk 12z
    names "--walk 12z: not an address" "$err"
done
echo "commands: $(echo $commands)"
end_tests
