#!/bin/sh
# Runs a command and checks its exit status and that its output (stdout
# and stderr) matches an extended regular expression; prints the output.
# Usage: expect.sh STATUS REGEX COMMAND [ARGS...]
want=$1
regex=$2
shift 2
out=$("$@" 2>&1)
got=$?
printf '%s\n' "$out"
if [ "$got" -ne "$want" ]; then
    echo "expect.sh: exit status $got, expected $want" >&2
    exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then
    echo "expect.sh: the output does not match: $regex" >&2
    exit 1
fi
if printf '%s\n' "$out" | grep -q "Sanitizer"; then
    echo "expect.sh: a sanitizer reported an error" >&2
    exit 1
fi
