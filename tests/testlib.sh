# Sourced by the shell tests (`. "$(dirname "$0")/testlib.sh"`): a scratch
# folder $dir, removed on exit, and fail(), which reports a failure and
# counts it so that a test goes on to check the rest; end_tests ends the
# script, with status 1 when anything failed.
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
end_tests() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures failures" >&2
        exit 1
    fi
}
