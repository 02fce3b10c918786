#!/bin/sh
# Installs the Debian packages vmsim needs to build and test, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
# lua5.4 and liblua5.4-dev are required (the Lua binding, vmsim run, their
# tests), and so is libzstd-dev (the .vmt memory traces). valgrind, python3,
# groff and graphviz are optional: without one, its tests are left out
# (without graphviz, the --dot graphs are checked but not drawn; vmsim
# record needs valgrind at run time, and its test skips without it).
# libc6-dev brings libc.a, which the test follow_static links statically.
# clang and libclang-rt-N-dev (N: clang's version) are optional too: without
# them the fuzz tests are skipped and `make fuzz` cannot run.
# chromium is optional: without it the HTML report's browser tests (and
# `make screenshots`, and the report's load time in `make bench`) are left
# out. parallel (GNU parallel) is optional: vmsim sweep's run-parallel.sh
# needs it, and the sweep test skips without it.
set -e
need=""
want=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in gcc libc6-dev make cmake pkg-config libcmocka-dev lua5.4 liblua5.4-dev; do
    have "$pkg" || need="$need $pkg"
done
have libedit-dev || need="$need libedit-dev" # required: vmsim shell's line editing
have libzstd-dev || need="$need libzstd-dev" # required: the .vmt traces' compression
have valgrind || command -v valgrind >/dev/null 2>&1 || want=" valgrind"
command -v python3 >/dev/null 2>&1 || want="$want python3"
command -v groff >/dev/null 2>&1 || want="$want groff-base"
command -v man >/dev/null 2>&1 || want="$want man-db"
command -v dot >/dev/null 2>&1 || want="$want graphviz"
command -v chromium >/dev/null 2>&1 || want="$want chromium" # the report's browser tests
command -v parallel >/dev/null 2>&1 || want="$want parallel" # vmsim sweep's jobs, its test
# libFuzzer's runtime comes with the clang release: libclang-rt-14-dev for
# clang 14 (Debian 12).
fuzz_packages() {
    if command -v clang >/dev/null 2>&1; then
        major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
        [ -n "$major" ] && ! have "libclang-rt-$major-dev" && echo " libclang-rt-$major-dev"
    else
        echo " clang libclang-rt-14-dev"
    fi
    return 0
}
fuzz=$(fuzz_packages)
[ -z "$need$want$fuzz" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$need$want$fuzz"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if [ -n "$need" ]; then
        apt-get install -y -qq --no-install-recommends $need
    fi
    if [ -n "$want" ]; then
        apt-get install -y -qq --no-install-recommends $want ||
            echo "could not install$want: their tests are left out" >&2
    fi
    if [ -n "$fuzz" ]; then
        apt-get install -y -qq --no-install-recommends $fuzz ||
            echo "could not install$fuzz: the fuzz tests are skipped and make fuzz cannot run" >&2
    fi
elif [ -n "$need" ]; then
    echo "vmsim needs:$need" >&2
    echo "run: sudo apt-get install -y$need$want$fuzz" >&2
    exit 1
else
    [ -n "$want" ] && echo "optional:$want (their tests are left out without them)" >&2
    [ -n "$fuzz" ] && echo "optional:$fuzz (the fuzz tests are skipped and make fuzz cannot run without it)" >&2
    echo "run: sudo apt-get install -y$want$fuzz" >&2
fi
