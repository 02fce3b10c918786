#!/bin/sh
# follow-test.sh VMSIM [--expect REGEX] PROG [ARGS...]: `vmsim follow
# --quiet -- PROG ARGS` for ctest, its exit status as the test's; with
# --expect, its report must also match REGEX (grep -E). A program this
# machine does not have is skipped (exit 77, with a message), and so is
# every program where the host refuses ptrace: the follower needs it, the
# machine's kernel is not at fault.
vmsim=$1
shift
expect=
if [ "$1" = "--expect" ]; then
    expect=$2
    shift 2
fi
if ! command -v "$1" >/dev/null 2>&1; then
    echo "skipped: $1 is not on this machine"
    exit 77
fi
out=$("$vmsim" follow --quiet -- "$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" = 2 ] && printf '%s\n' "$out" | grep -q "ptrace is refused"; then
    echo "skipped: this host refuses ptrace"
    exit 77
fi
if [ -n "$expect" ] && ! printf '%s\n' "$out" | grep -Eq -- "$expect"; then
    echo "follow-test.sh: the report does not match: $expect"
    exit 1
fi
exit "$status"
