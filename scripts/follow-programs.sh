#!/bin/sh
# follow-programs.sh VMSIM [STATIC [THREADS]]: `vmsim follow` over a set of
# ordinary programs, from exec to exit, and the table docs/fidelity.md
# shows. A program this machine lacks is skipped and said so. STATIC is a
# statically linked program (the build's follow_static), THREADS one with
# threads (the build's follow_threads). Exit 1 when any differed.
vmsim=${1:?usage: follow-programs.sh VMSIM [STATIC [THREADS]]}
static=$2
threads=$3
# The programs run in a scratch folder: paths given relative to here made absolute.
case $vmsim in /*) ;; */*) vmsim=$PWD/$vmsim ;; esac
case $static in /* | "") ;; *) static=$PWD/$static ;; esac
case $threads in /* | "") ;; *) threads=$PWD/$threads ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-follow-programs.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
seq 1 20000 > "$work/numbers.txt" 2>/dev/null || printf '3\n1\n2\n' > "$work/numbers.txt"
seq 200000 -1 1 > "$work/big.txt" 2>/dev/null || cp "$work/numbers.txt" "$work/big.txt"
printf 'hello vmsim\n' > "$work/in.txt"
command -v gzip >/dev/null 2>&1 && gzip -c "$work/in.txt" > "$work/in.txt.gz"
command -v tar >/dev/null 2>&1 && (cd "$work" && tar cf t.tar in.txt)

failed=0
printf '| program | command | threads | memory calls | open/close | result |\n|---|---|---|---|---|---|\n'
run() {
    name=$1
    shift
    if ! command -v "$1" >/dev/null 2>&1; then
        printf '| %s | `%s` | | | | skipped: not on this machine |\n' "$name" "$*"
        return
    fi
    summary=$(cd "$work" && "$vmsim" follow --quiet -- "$@" 2>&1 >/dev/null </dev/null | tail -n 1)
    status=$?
    mm=$(printf '%s' "$summary" | sed -n 's/.*(\([0-9]*\) memory.*/\1/p')
    files=$(printf '%s' "$summary" | sed -n 's/.*, \([0-9]*\) open\/close.*/\1/p')
    nthreads=$(printf '%s' "$summary" | sed -n 's/.*; \([0-9]*\) threads*;.*/\1/p')
    result=$(printf '%s' "$summary" | sed -n 's/.*mirrored), //p')
    case "$result" in
        "all agreed"*) ;;
        *) failed=1 ;;
    esac
    printf '| %s | `%s` | %s | %s | %s | %s |\n' "$name" "$*" "${nthreads:-?}" "${mm:-?}" "${files:-?}" \
        "${result:-$summary}"
}

run true true
run echo echo hello
run env env
run ls ls -l /usr/share
run cat cat in.txt
run head head -n 3 numbers.txt
run wc wc numbers.txt
run sort sort -n numbers.txt
run grep grep 1999 numbers.txt
run sed sed -n 5p numbers.txt
run awk awk 'END { print NR }' numbers.txt
run tar tar tf t.tar
run gzip gzip -dc in.txt.gz
run xz xz -c numbers.txt
run date date
run sha256sum sha256sum numbers.txt
run find find /usr/share/doc -maxdepth 1
run du du -s /usr/share/doc
run cp cp numbers.txt copy.txt
run python3 /usr/bin/python3 -c pass
run perl perl -e 1
run bash bash -c 'echo "$((6 * 7))"'
run gcc gcc --version
run make make --version
run git git --version
run ld ld --version
run cmake cmake --version
run lua5.4 lua5.4 -e 'local t = {} for i = 1, 100000 do t[i] = i end'
[ -n "$static" ] && run static "$static"
# With threads: each thread's calls followed in the shared address space.
run python3-threads /usr/bin/python3 -c 'import threading; t = [threading.Thread(target=lambda: [0] * 100000) for i in range(4)]; [a.start() for a in t]; [a.join() for a in t]'
run sort-parallel sort --parallel=2 -S 64M -n big.txt
run xz-threads xz -T2 -c big.txt
run zstd-threads zstd -T2 -c big.txt
[ -n "$threads" ] && run threads "$threads"
exit $failed
