# Sourced by scripts/equiv.sh and scripts/ab.sh, which compare the working
# tree with a baseline commit: the commit resolved, and checked out in a
# temporary git worktree that is removed on exit whatever happens. The
# caller defines die() and prog (its name in messages) and runs in $top.

# Sets sha to REV's commit; REV defaults to the merge base of HEAD and main
# (on a branch, what it started from; on main, HEAD itself).
baseline_resolve() {
    rev=$1
    if [ -z "$rev" ]; then
        rev=$(git merge-base HEAD main 2>/dev/null) || rev=HEAD
    fi
    sha=$(git rev-parse --verify --quiet "$rev^{commit}") || die "no such commit: $rev"
}

baseline_remove() {
    if [ -e "$base_src" ]; then
        git worktree remove --force "$base_src" 2>/dev/null || rm -rf "$base_src"
    fi
    git worktree prune 2>/dev/null
}

# Checks sha out in DIR (base_src), after removing what a killed run left.
baseline_checkout() {
    base_src=$1
    trap baseline_remove EXIT
    trap 'echo "$prog: interrupted" >&2; exit 2' INT TERM HUP
    baseline_remove
    git worktree add --quiet --detach "$base_src" "$sha" || die "cannot check $sha out in $base_src"
}
