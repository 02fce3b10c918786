#!/bin/sh
# Speed comparison of the working tree (committed or not) with REV, both
# builds in one program (bench/ab/ab.c): rounds of the same loads alternate
# between them, so a busy or virtual machine's swings reach both alike.
# Builds REV (in a temporary git worktree, removed afterwards whatever
# happens) and the working tree as Release libraries under build-ab/,
# renames every global symbol of the first to A_... and of the second to
# B_..., links both into build-ab/vmsim-ab and runs it. REV defaults to the
# merge base of HEAD and main. docs/fidelity.md ("Speed") says why.
# Exit: 0 measured, 2 a usage or build error.
set -u

usage() {
    cat <<'END'
usage: scripts/ab.sh [REV] [-- ROW [ROUNDS [MIB [LOADS]]]]
  REV    the baseline commit (default: the merge base of HEAD and main)
  ROW    miss (default): random 8-byte loads over MIB MiB (1024);
         hit: loads the L1 TLB holds; ROUNDS (10), LOADS per round (2000000)
Run it on a quiet machine, or pinned: taskset -c 1 nice -n -20 scripts/ab.sh
END
}

die() {
    echo "ab: $*" >&2
    exit 2
}

rev=
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (--help: usage)" ;;
    *) [ -z "$rev" ] || die "one REV only (--help: usage)"; rev=$1 ;;
    esac
    shift
done
[ $# -gt 0 ] || set -- miss
for tool in nm objcopy git cmake; do
    command -v $tool >/dev/null 2>&1 || die "$tool is needed"
done

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) || die "not in a git tree"
cd "$top" || die "cannot enter $top"
if [ -z "$rev" ]; then
    rev=$(git merge-base HEAD main 2>/dev/null) || rev=HEAD
fi
sha=$(git rev-parse --verify --quiet "$rev^{commit}") || die "no such commit: $rev"
# One program holds both builds and passes each the working tree's structs.
git show "$sha:include/vmsim.h" | cmp -s - include/vmsim.h ||
    die "include/vmsim.h differs from $rev's: the two builds' structs may not agree"
out=$top/build-ab
base_src=$out/baseline-src
mkdir -p "$out" || die "cannot make $out"

remove_worktree() {
    if [ -e "$base_src" ]; then
        git worktree remove --force "$base_src" 2>/dev/null || rm -rf "$base_src"
    fi
    git worktree prune 2>/dev/null
}
trap remove_worktree EXIT
trap 'echo "ab: interrupted" >&2; exit 2' INT TERM HUP
remove_worktree
git worktree add --quiet --detach "$base_src" "$sha" || die "cannot check $sha out in $base_src"
echo "ab: A = $(git log -1 --format='%h %s' "$sha" | cut -c1-70)"
echo "ab: B = the working tree ($(git log -1 --format='%h' HEAD)$([ -n "$(git status --porcelain --untracked-files=no)" ] && echo ' + uncommitted changes'))"

# build SRC NAME PREFIX: a Release libvmsim.a whose global symbols all get PREFIX.
build() {
    dir=$out/$2 log=$out/$2.log
    echo "ab: building $2 (log: build-ab/$2.log)"
    { nice cmake -S "$1" -B "$dir" -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1 &&
        nice cmake --build "$dir" -j2 --target vmsim_static >>"$log" 2>&1; } ||
        { tail -20 "$log" >&2; die "the build of $2 failed"; }
    nm -g --defined-only "$dir/libvmsim.a" | awk -v p="$3" 'NF == 3 { print $3 " " p $3 }' |
        sort -u >"$dir/symbols.map"
    objcopy --redefine-syms="$dir/symbols.map" "$dir/libvmsim.a" "$out/lib$3.a" ||
        die "cannot rename the symbols of $2"
}
build "$base_src" baseline A_
build "$top" current B_
"${CC:-cc}" -std=c17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$top/include" \
    "$top/bench/ab/ab.c" "$out/libA_.a" "$out/libB_.a" -o "$out/vmsim-ab" ||
    die "vmsim-ab does not build"
"$out/vmsim-ab" "$@"
