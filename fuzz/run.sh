#!/bin/sh
# Builds the fuzz targets (fuzz/CMakeLists.txt) with clang's libFuzzer and
# runs them; see fuzz/README.md.
#   run.sh smoke BUILD_DIR [TARGET]          each target over its seed corpus,
#                                            then SMOKE_RUNS more inputs (5000)
#   run.sh fuzz BUILD_DIR SECONDS [TARGET]   each target for SECONDS, keeping
#                                            what it finds in BUILD_DIR/corpus
# A crash leaves its input in BUILD_DIR/crashes/ and fails the run. Exit
# status 77 (a skipped test for ctest) when clang's libFuzzer is missing.
set -u
mode=${1:?usage: run.sh smoke|fuzz BUILD_DIR [SECONDS] [TARGET]}
build=${2:?usage: run.sh smoke|fuzz BUILD_DIR [SECONDS] [TARGET]}
seconds=60
if [ "$mode" = fuzz ]; then
    seconds=${3:?usage: run.sh fuzz BUILD_DIR SECONDS [TARGET]}
    only=${4:-}
else
    only=${3:-}
fi
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang}

# Can clang link a libFuzzer program here?
probe=$(mktemp -d)
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! "$clang" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
    rm -rf "$probe"
    echo "fuzz: skipped: clang with libFuzzer is missing (scripts/install-deps.sh installs clang and libclang-rt-14-dev)"
    exit 77
fi
rm -rf "$probe"

mkdir -p "$build"
cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER="$clang" -DCMAKE_BUILD_TYPE=None >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j 2 >"$build/build.log" 2>&1 || { cat "$build/build.log"; exit 1; }

# One line from libFuzzer's last report: runs, coverage, speed.
summary() {
    grep -E '^#[0-9]+' "$1" | tail -n 1 | sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+/\1 runs, /'
}

status=0
for target in $(cat "$build/targets.txt"); do
    [ -n "$only" ] && [ "$target" != "$only" ] && continue
    seeds="$here/corpus/$target"
    mkdir -p "$seeds" "$build/crashes"
    log="$build/$target.log"
    if [ "$mode" = smoke ]; then
        # A fresh corpus each time and a fixed seed: the same inputs every run.
        work="$build/smoke/$target"
        rm -rf "$work"
        mkdir -p "$work"
        set -- -runs="${SMOKE_RUNS:-5000}" -seed=1
    else
        work="$build/corpus/$target"
        mkdir -p "$work"
        set -- -max_total_time="$seconds" -print_final_stats=1
    fi
    "$build/fuzz_$target" "$@" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -artifact_prefix="$build/crashes/$target-" "$work" "$seeds" >"$log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$log"
        echo "fuzz_$target: FAILED (exit $rc; input kept in $build/crashes/, log in $log)"
        status=1
    else
        echo "fuzz_$target: $(summary "$log") ($(ls "$seeds" | wc -l) seed inputs)"
    fi
done
exit $status
