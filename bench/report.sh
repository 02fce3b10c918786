#!/bin/sh
# make bench's rows for the HTML report (vmsim run --html) at scale: a run
# with 100,000 VMAs (bench/report_vmas.lua) and one that writes 1 GiB
# (bench/report_gib.lua). For each: the calls, the time to run and write the
# page, its size, and the time headless Chromium takes to open it (from the
# start of loading to the first view drawn: the page's data-ready-ms; the
# best of three), or "-" without chromium; for the 100,000 VMAs also with
# the VMA tree as the first view. Writes OUT/bench-report.json too.
# Usage: report.sh VMSIM OUT_DIR
set -eu
vmsim=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
chromium=$(command -v chromium || command -v chromium-browser || true)
now() { date +%s%N; }

load_ms() {
    best=""
    for i in 1 2 3; do
        ms=$(timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
                 --disable-extensions --dump-dom "file://$1${2:-}" 2>/dev/null |
             sed -n 's/.*data-ready-ms="\([0-9]*\)".*/\1/p' | head -1)
        [ -n "$ms" ] && { [ -z "$best" ] || [ "$ms" -lt "$best" ]; } && best=$ms
    done
    echo "${best:--}"
}

printf '%-22s %8s %10s %10s %12s %12s\n' "report page" "calls" "write s" "size KiB" "open ms" "tree ms"
json="["
for case in vmas gib; do
    page="$out/report-$case.html"
    t0=$(now)
    "$vmsim" run --quiet --html "$page" "$here/report_$case.lua"
    t1=$(now)
    calls=$(sed -n 's/.*"calls":\([0-9]*\),.*/\1/p' "$page" | head -1)
    size=$(wc -c < "$page")
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    ms="-"
    [ -n "$chromium" ] && ms=$(load_ms "$page")
    tree="-"
    [ -n "$chromium" ] && [ "$case" = vmas ] && tree=$(load_ms "$page" "#view=tree")
    name="report_$case"
    printf '%-22s %8s %10s %10s %12s %12s\n' "$name" "$calls" "$secs" "$((size / 1024))" "$ms" "$tree"
    [ "$json" = "[" ] || json="$json,"
    json="$json
  {\"name\": \"$name\", \"calls\": $calls, \"write_s\": $secs, \"bytes\": $size, \"open_ms\": \"$ms\", \"tree_open_ms\": \"$tree\"}"
done
printf '%s\n]\n' "$json" > "$out/bench-report.json"
[ -n "$chromium" ] || echo "note: chromium is not installed: the pages' open times are left out"
echo "note: open ms: headless Chromium, from the start of loading to the first view drawn"
