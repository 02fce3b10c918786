#!/bin/sh
# Equivalence check for speed work: does the working tree (committed or
# not) still show a user exactly what REV shows? Builds REV (in a temporary
# git worktree, removed afterwards whatever happens) and the working tree,
# each in its own folder under build-equiv/, then compares on both builds:
#   1. vmsim-equiv-digest (bench/equiv/digest.c, compiled from the working
#      tree against each build's library and header): random runs on
#      anonymous memory, every result, fault, byte, counter, event, TLB
#      entry, page table, VMA and frame hashed;
#   2. vmsim run --json of every examples/*.lua of the working tree (the
#      random name of the folder an example makes with mktemp is masked);
#   3. vmsim convert of a lackey text this script writes, then vmsim replay
#      --json of it under four machine configs, and the same for a trace
#      vmsim record makes of `ls /` when valgrind is there (kept in
#      build-equiv/traces/ and reused; delete it to record again).
# REV defaults to the merge base of HEAD and main: on a branch, what the
# branch started from; on main, HEAD itself (the uncommitted changes).
# docs/equiv.md says more. Exit: 0 equivalent, 1 a difference (the first
# printed), 2 a usage or build error, or an interruption.
set -u

usage() {
    cat <<'END'
usage: scripts/equiv.sh [options] [REV]
  REV            the baseline commit (default: the merge base of HEAD and main)
  --seeds A-B    the digest's seeds (default 1-300)
  --steps N      steps per seed (default 3000)
  --every K      the digest folds the whole state every K steps (default 100)
  --asan         also build both with ASan+UBSan and run the digest there
  --no-tools     the digest only (no vmsim run / replay comparisons)
  --trace SEED   only the digest's one seed, step by step: the first step
                 at which the two builds part, and its operation
  -h, --help     this text
Exit status: 0 equivalent, 1 a difference, 2 usage or build error.
END
}

die() { # a usage or build error: not a verdict
    echo "equiv: $*" >&2
    exit 2
}

seeds=1-300
steps=3000
every=100
asan=0
tools=1
trace_seed=
rev=
while [ $# -gt 0 ]; do
    case $1 in
    --seeds | --steps | --every | --trace)
        [ $# -ge 2 ] || die "$1 needs a value (--help: usage)"
        case $1 in
        --seeds) seeds=$2 ;;
        --steps) steps=$2 ;;
        --every) every=$2 ;;
        --trace) trace_seed=$2 ;;
        esac
        shift
        ;;
    --asan) asan=1 ;;
    --no-tools) tools=0 ;;
    -h | --help)
        usage
        exit 0
        ;;
    -*) die "unknown option $1 (--help: usage)" ;;
    *)
        [ -z "$rev" ] || die "one REV only (--help: usage)"
        rev=$1
        ;;
    esac
    shift
done
# The digest checks its own arguments; these only have to be numbers here.
case "$seeds" in *[!0-9-]* | "") die "--seeds: A-B expected, not '$seeds'" ;; esac
for n in "$steps" "$every" ${trace_seed:+"$trace_seed"}; do
    case "$n" in *[!0-9]* | "") die "a number expected, not '$n'" ;; esac
done

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) || die "not in a git tree"
cd "$top" || die "cannot enter $top"
prog=equiv
. "$top/scripts/baseline.sh"
baseline_resolve "$rev"
out=$top/build-equiv
mkdir -p "$out/traces" || die "cannot make $out"
baseline_checkout "$out/baseline-src"

dirty=
[ -n "$(git status --porcelain --untracked-files=no)" ] && dirty=" + uncommitted changes"
echo "equiv: baseline $(git log -1 --format='%h %s' "$sha" | cut -c1-72)"
echo "equiv: current  $(git log -1 --format='%h' HEAD) (the working tree$dirty)"

# ---- builds ----

# build SRC NAME SANITIZE: the library and (unsanitized) the tool, then the
# working tree's digest against that library, with the project's flags.
build() {
    src=$1 dir=$out/$2 log=$out/$2.log
    echo "equiv: building $2 (log: build-equiv/$2.log)"
    targets="--target vmsim_static --target vmsim_tool"
    [ "$3" = ON ] && targets="--target vmsim_static" # the sanitized builds run the digest only
    # shellcheck disable=SC2086 # targets are words
    if ! nice cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DVMSIM_SANITIZE="$3" >"$log" 2>&1 ||
        ! nice cmake --build "$dir" -j2 $targets >>"$log" 2>&1; then
        tail -20 "$log" >&2
        die "the build of $2 failed"
    fi
    flags="-std=c17 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE"
    [ "$3" = ON ] && flags="$flags -fsanitize=address,undefined -fno-sanitize-recover=all"
    # shellcheck disable=SC2086 # flags are words
    nice "${CC:-cc}" $flags -I"$src/include" "$top/bench/equiv/digest.c" "$dir/libvmsim.a" -lm \
        -o "$dir/equiv-digest" >>"$log" 2>&1 ||
        { tail -20 "$log" >&2; die "the digest does not build against $2's include/vmsim.h"; }
}
build "$base_src" baseline OFF
build "$top" current OFF
if [ $asan = 1 ]; then
    build "$base_src" baseline-asan ON
    build "$top" current-asan ON
fi

# ---- the digest ----

first_difference=
status=0
differ() { # WHAT: record a difference; the first one is repeated at the end
    status=1
    [ -n "$first_difference" ] || first_difference=$1
    echo "equiv: DIFFERENT: $1"
}

# trace_seed SEED STEPS: the first step whose hashes differ, with the last
# step that agreed and the operation each build did.
trace_one_seed() {
    for b in baseline current; do
        nice "$out/$b/equiv-digest" --trace "$1" --steps "$2" --every 1 >"$out/trace-$b-$1.txt" ||
            die "the $b digest failed on seed $1"
    done
    n=$(paste -d'\n' "$out/trace-baseline-$1.txt" "$out/trace-current-$1.txt" |
        awk 'NR % 2 { a = $1 " " $2 " " $3 " " $4; next } $1 " " $2 " " $3 " " $4 != a { print NR / 2; exit }')
    if [ -z "$n" ]; then
        if cmp -s "$out/trace-baseline-$1.txt" "$out/trace-current-$1.txt"; then
            echo "equiv: seed $1: the same at every one of $2 steps"
            return 0
        fi
        n=$(cmp "$out/trace-baseline-$1.txt" "$out/trace-current-$1.txt" | sed 's/.* line //')
    fi
    echo "equiv: seed $1 parts at line $n of build-equiv/trace-{baseline,current}-$1.txt:"
    [ "$n" -gt 1 ] && echo "  both:     $(sed -n "$((n - 1))p" "$out/trace-current-$1.txt")"
    echo "  baseline: $(sed -n "${n}p" "$out/trace-baseline-$1.txt")"
    echo "  current:  $(sed -n "${n}p" "$out/trace-current-$1.txt")"
    echo "  (step N, the hash, the events' hash, the operation; {stats tlb tables}: the parts of the"
    echo "   state folded after it, which say what differs first; the final line: frames and totals)"
    return 1
}

if [ -n "$trace_seed" ]; then
    trace_one_seed "$trace_seed" "$steps" && exit 0
    exit 1
fi

run_digest() { # SUFFIX ("" or -asan)
    t0=$(date +%s)
    for b in baseline current; do
        nice "$out/$b$1/equiv-digest" --seeds "$seeds" --steps "$steps" --every "$every" \
            >"$out/digest-$b$1.txt" 2>"$out/digest-$b$1.err"
        rc=$?
        [ $rc = 0 ] || { tail -5 "$out/digest-$b$1.err" >&2; die "the $b$1 digest failed (exit $rc)"; }
    done
    lines=$(wc -l <"$out/digest-current$1.txt")
    echo "equiv: digest$1: seeds $seeds x $steps steps, $(($(date +%s) - t0)) s"
    if cmp -s "$out/digest-baseline$1.txt" "$out/digest-current$1.txt"; then
        echo "equiv: digest$1: the same for all $lines seeds"
        return
    fi
    ndiff=$(diff "$out/digest-baseline$1.txt" "$out/digest-current$1.txt" | grep -c '^<')
    line=$(diff "$out/digest-baseline$1.txt" "$out/digest-current$1.txt" | grep -m1 '^<' | cut -c3-)
    seed=$(echo "$line" | awk '{ print $2 }')
    differ "digest$1: $ndiff of $lines seeds differ, the first seed $seed"
    echo "  baseline: $(grep "^seed $seed " "$out/digest-baseline$1.txt" | cut -c1-160)"
    echo "  current:  $(grep "^seed $seed " "$out/digest-current$1.txt" | cut -c1-160)"
    [ -z "$1" ] && trace_one_seed "$seed" "$steps"
}
run_digest ""
[ $asan = 1 ] && run_digest -asan

# ---- the tool's outputs ----

# compare_outputs WHAT FILE: FILE.baseline and FILE.current
compare_outputs() {
    if cmp -s "$2.baseline" "$2.current"; then
        compared=$((compared + 1))
        return
    fi
    differ "$1 (build-equiv/${2#"$out"/}.{baseline,current})"
    diff "$2.baseline" "$2.current" >"$2.diff"
    echo "  baseline: $(grep -m1 '^<' "$2.diff" | cut -c3-160)"
    echo "  current:  $(grep -m1 '^>' "$2.diff" | cut -c3-160)"
}

# on_both FILE CMD...: CMD with vmsim as "$vmsim", on each build, its output,
# errors and exit status in FILE.baseline and FILE.current.
on_both() {
    file=$1
    shift
    for b in baseline current; do
        vmsim=$out/$b/vmsim
        (nice timeout 300 "$vmsim" "$@" 2>&1; echo "exit status $?") >"$file.$b"
    done
}

# Accesses over code, a stack, a random working set larger than small TLBs
# and a stream of pages, some across a page's end, in lackey's format. The
# generator is a Park-Miller sequence: the same text from every awk.
write_lackey_text() {
    awk 'BEGIN {
        s = 12345
        for (i = 0; i < 40000; i++) {
            s = (s * 16807) % 2147483647
            printf "I  %08x,%d\n", 4198400 + (i * 7) % 12288, 1 + s % 7
            s = (s * 16807) % 2147483647
            r = s % 100; kind = r < 45 ? " L" : r < 85 ? " S" : " M"
            s = (s * 16807) % 2147483647
            if (r % 5 == 0)      page = 1024 + (i % 1536)        # the stream
            else if (r % 5 == 1) page = -1                        # the stack
            else                 page = 4096 + s % 400            # the working set
            off = (i % 97 == 0) ? 4093 : (s % 4088)
            if (page < 0) printf "%s 1ffefff%03x,8\n", kind, s % 4088
            else          printf "%s %08x,%d\n", kind, page * 4096 + off, 1 + s % 8
        }
    }'
}

configs() {
    echo ""
    echo "--pcid --levels 5 --dtlb 16:4 --stlb 64:4 --pde-cache 4:4 --pdpte-cache 2:2 --pml4e-cache 1:1 --ncpus 2"
    echo "--phys 8M --swap 16M --dtlb 8:2 --itlb 4:4 --stlb 16:4 --pde-cache 0:0 --pdpte-cache 0:0 --pml4e-cache 0:0"
    echo "--ram 4M,16M --no-lru --dtlb 4:4 --stlb 1536:12 --pde-cache 2:2 --set zero_page=0"
}

replay_everywhere() { # NAME TRACE
    configs >"$out/tools/configs"
    i=0
    while IFS= read -r cfg; do
        i=$((i + 1))
        # shellcheck disable=SC2086 # cfg is words
        on_both "$out/tools/replay-$1-$i" replay "$2" --json -q $cfg
        compare_outputs "vmsim replay --json $1 ${cfg:-(defaults)}" "$out/tools/replay-$1-$i"
    done <"$out/tools/configs"
}

if [ $tools = 1 ]; then
    rm -rf "$out/tools"
    mkdir -p "$out/tools"
    compared=0
    for example in examples/*.lua; do
        name=$(basename "$example" .lua)
        on_both "$out/tools/run-$name" run --json "$example"
        # mktemp -d names the example's folder at random: the one expected difference
        for b in baseline current; do
            sed -E 's#/tmp\.[A-Za-z0-9]{6,}#/tmp.RANDOM#g' "$out/tools/run-$name.$b" >"$out/tools/run-$name.$b.masked"
            mv "$out/tools/run-$name.$b.masked" "$out/tools/run-$name.$b"
        done
        compare_outputs "vmsim run --json $example" "$out/tools/run-$name"
    done

    write_lackey_text >"$out/traces/synthetic.txt"
    on_both "$out/tools/convert" convert --from lackey "$out/traces/synthetic.txt" -o "$out/traces/synthetic.vmt"
    compare_outputs "vmsim convert --from lackey" "$out/tools/convert"
    # each build converted to the same path, the current last: compare its
    # bytes with the baseline's by converting once more
    "$out/baseline/vmsim" convert --from lackey "$out/traces/synthetic.txt" -o "$out/traces/synthetic-baseline.vmt" >/dev/null 2>&1
    if cmp -s "$out/traces/synthetic.vmt" "$out/traces/synthetic-baseline.vmt"; then
        compared=$((compared + 1))
    else
        differ "vmsim convert: the .vmt files differ"
    fi
    replay_everywhere synthetic "$out/traces/synthetic.vmt"

    if command -v valgrind >/dev/null 2>&1; then
        [ -s "$out/traces/recorded.vmt" ] ||
            nice "$out/current/vmsim" record -o "$out/traces/recorded.vmt" -- ls / >/dev/null 2>"$out/traces/record.err" ||
            { rm -f "$out/traces/recorded.vmt"; die "vmsim record failed: $(tail -3 "$out/traces/record.err")"; }
        replay_everywhere recorded "$out/traces/recorded.vmt"
    else
        echo "equiv: valgrind is missing: no recorded trace (scripts/install-deps.sh installs it)"
    fi
    echo "equiv: tools: $compared outputs the same (run --json of examples, convert, replay --json)"
fi

if [ $status = 0 ]; then
    echo "RESULT: EQUIVALENT"
    exit 0
fi
echo "RESULT: DIFFERENT; the first difference: $first_difference"
exit 1
