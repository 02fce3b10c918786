#!/bin/sh
# The example study of docs/study-tlb.md: records three programs of this
# machine with vmsim record (gzip and xz compressing a generated text,
# sort sorting generated lines), sweeps the L1 data TLB and L2 TLB sizes
# of scripts/study-tlb.grid over them with vmsim sweep and GNU parallel,
# and collects the results into docs/study-tlb.csv and the plots
# docs/img/study-tlb-l1.svg and docs/img/study-tlb-l2.svg.
# Usage: scripts/study-tlb.sh [VMSIM [WORK_DIR]]   (defaults: build/vmsim,
# build/study-tlb). JOBS=N jobs at once (default 2). The traces (a few MB
# each) stay in WORK_DIR and are recorded again only when missing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
vmsim=$(realpath "${1:-$root/build/vmsim}")
work=${2:-$root/build/study-tlb}
mkdir -p "$work"
work=$(realpath "$work")
cd "$work"

# The inputs: the same text every time: 4000 lines of "NNNNNNNN line N of
# the input", in a scrambled order.
seq 1 4000 | awk '{ printf "%08d line %d of the input\n", ($1 * 7919) % 4001, $1 }' >text.txt
head -c 49152 text.txt >text48k.txt
head -c 16384 text.txt >text16k.txt
head -n 2000 text.txt >lines.txt

record() { # NAME CMD...: NAME.vmt, unless it is there
    name=$1
    shift
    [ -s "$name.vmt" ] && return 0
    echo "recording $name: $*"
    "$vmsim" record -o "$name.vmt.tmp" -- "$@" >/dev/null
    mv "$name.vmt.tmp" "$name.vmt"
}
record gzip gzip -c text48k.txt
record xz xz -1 -c text16k.txt
record sort sort lines.txt

cp "$root/scripts/study-tlb.grid" grid.txt
rm -rf sweep
"$vmsim" sweep grid.txt -o sweep
sh sweep/run-parallel.sh -j "${JOBS:-2}"
"$vmsim" sweep --collect sweep -o "$root/docs/study-tlb.csv" --plot "$root/docs/img/study-tlb-l1.svg" \
    --x dtlb --y dtlb_mpka --series trace --where stlb=1536:12 --log-y
"$vmsim" sweep --collect sweep -o /dev/null --plot "$root/docs/img/study-tlb-l2.svg" \
    --x stlb --y l2_mpka --series trace --where dtlb=64:4 --log-y
echo "docs/study-tlb.csv, docs/img/study-tlb-l1.svg, docs/img/study-tlb-l2.svg written"
