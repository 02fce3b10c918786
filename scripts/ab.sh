#!/bin/sh
# Speed comparison of the working tree (committed or not) with REV, both
# builds in one program (bench/ab/ab.c): rounds of the same loads alternate
# between them, so a busy or virtual machine's swings reach both alike.
# Builds REV (in a temporary git worktree, removed afterwards whatever
# happens) and the working tree as Release libraries under build-ab/,
# renames every global symbol of the first to A_... and of the second to
# B_..., links both into vmsim-ab and runs it. REV defaults to the merge
# base of HEAD and main; --libs takes two libvmsim.a already built instead.
# docs/fidelity.md ("Speed") says why. Exit: 0 measured, 1 the two builds
# loaded different bytes, 2 a usage or build error.
set -u

usage() {
    cat <<'END'
usage: scripts/ab.sh [REV | --libs LIB_A LIB_B [--out DIR]] [-- ROW [ROUNDS [MIB [LOADS]]]]
  REV     the baseline commit (default: the merge base of HEAD and main)
  --libs  two libvmsim.a to compare (built from the same include/vmsim.h)
  --out   where vmsim-ab is made (default build-ab/)
  ROW     miss (default): random 8-byte loads over MIB MiB (1024);
          hit: loads the L1 TLB holds; ROUNDS (10), LOADS per round (2000000)
Run it on a quiet machine, or pinned: taskset -c 1 nice -n -20 scripts/ab.sh
END
}

die() {
    echo "ab: $*" >&2
    exit 2
}

rev= lib_a= lib_b= out=
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --libs)
        [ $# -ge 3 ] || die "--libs needs two libraries (--help: usage)"
        lib_a=$2 lib_b=$3
        shift 2
        ;;
    --out)
        [ $# -ge 2 ] || die "--out needs a folder (--help: usage)"
        out=$2
        shift
        ;;
    --) shift; break ;;
    -*) die "unknown option $1 (--help: usage)" ;;
    *) [ -z "$rev" ] || die "one REV only (--help: usage)"; rev=$1 ;;
    esac
    shift
done
[ -z "$rev" ] || [ -z "$lib_a" ] || die "a REV or --libs, not both"
[ $# -gt 0 ] || set -- miss
for tool in nm objcopy git; do
    command -v $tool >/dev/null 2>&1 || die "$tool is needed"
done

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) || die "not in a git tree"
[ -n "$out" ] || out=$top/build-ab
mkdir -p "$out" || die "cannot make $out"

# rename LIB PREFIX: a copy of LIB in $out whose global symbols all get PREFIX.
rename() {
    [ -r "$1" ] || die "no library $1"
    nm -g --defined-only "$1" | awk -v p="$2" 'NF == 3 { print $3 " " p $3 }' |
        sort -u >"$out/$2symbols.map"
    objcopy --redefine-syms="$out/$2symbols.map" "$1" "$out/lib$2.a" ||
        die "cannot rename the symbols of $1"
}

# build SRC NAME: a Release libvmsim.a of SRC in $out/NAME.
build() {
    dir=$out/$2 log=$out/$2.log
    echo "ab: building $2 (log: $log)"
    { nice cmake -S "$1" -B "$dir" -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1 &&
        nice cmake --build "$dir" -j2 --target vmsim_static >>"$log" 2>&1; } ||
        { tail -20 "$log" >&2; die "the build of $2 failed"; }
}

if [ -z "$lib_a" ]; then
    command -v cmake >/dev/null 2>&1 || die "cmake is needed"
    cd "$top" || die "cannot enter $top"
    prog=ab
    . "$top/scripts/baseline.sh"
    baseline_resolve "$rev"
    # One program holds both builds and passes each the working tree's
    # structs: the two headers must agree but for comments and spacing.
    # A compiler that cannot strip comments (clang has no -fpreprocessed)
    # leaves the byte-for-byte comparison.
    header_code() {
        code=$("${CC:-cc}" -fpreprocessed -dD -E -P - 2>/dev/null) && [ -n "$code" ] || return 1
        printf '%s' "$code" | tr -d ' \t\n'
    }
    if ! old=$(git show "$sha:include/vmsim.h" | header_code) ||
        ! new=$(header_code <include/vmsim.h); then
        old=$(git show "$sha:include/vmsim.h") new=$(cat include/vmsim.h)
    fi
    [ -n "$old" ] && [ "$old" = "$new" ] ||
        die "include/vmsim.h differs from $rev's: the two builds' structs may not agree"
    baseline_checkout "$out/baseline-src"
    dirty=
    [ -n "$(git status --porcelain --untracked-files=no)" ] && dirty=" + uncommitted changes"
    echo "ab: A = $(git log -1 --format='%h %s' "$sha" | cut -c1-70)"
    echo "ab: B = the working tree ($(git log -1 --format='%h' HEAD)$dirty)"
    build "$base_src" baseline
    build "$top" current
    lib_a=$out/baseline/libvmsim.a lib_b=$out/current/libvmsim.a
fi
rename "$lib_a" A_
rename "$lib_b" B_
"${CC:-cc}" -std=c17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$top/include" \
    "$top/bench/ab/ab.c" "$out/libA_.a" "$out/libB_.a" -o "$out/vmsim-ab" ||
    die "vmsim-ab does not build"
"$out/vmsim-ab" "$@"
