#!/bin/sh
# The report in a real browser: `vmsim run --html` writes the page of
# tests/report/known.lua, headless Chromium loads it with check.js appended
# (the views hold what the run did, the step control and the keyboard work)
# and must log no console message at all (no error, no warning, no stray
# output); the same for the page of examples/14_swap.lua with check_swap.js
# (the reclaim lane), and for `vmsim replay --html` with check_replay.js
# (its plots hold the replay's numbers). Then screenshots, kept in OUT as build artefacts
# (`make screenshots` copies them into docs/img/).
# Usage: browser.sh VMSIM CHROMIUM OUT_DIR
set -eu
vmsim=$1
chromium=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd) # file:// URLs need an absolute path
rm -f "$out"/report-*.png "$out"/*-check.dom

browse() {
    # root may not use the sandbox; no GPU here; a fixed window for shots
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --no-first-run --disable-extensions --window-size=1280,900 \
        --virtual-time-budget=5000 "$@"
}

status=0
# check_page NAME CHECK.js: loads OUT/NAME.html with the check appended;
# the check must pass and nothing may reach the console.
check_page() {
    name=$1
    awk -v js="$2" '
      /<\/body>/ { print "<script>"; while ((getline line < js) > 0) print line; print "</script>" }
      { print }' "$out/$name.html" > "$out/$name-check.html"
    browse --enable-logging=stderr --v=0 --dump-dom "file://$out/$name-check.html" \
        > "$out/$name-check.dom" 2> "$out/$name-check.log"
    if ! grep -q '<pre id="report-check">REPORT-CHECK PASS' "$out/$name-check.dom"; then
        echo "the checks of $name.html failed:" >&2
        sed -n '/<pre id="report-check">/,/<\/pre>/p' "$out/$name-check.dom" >&2
        status=1
    fi
    if grep -q 'CONSOLE' "$out/$name-check.log"; then
        echo "$name.html logged to the console:" >&2
        grep 'CONSOLE' "$out/$name-check.log" >&2
        status=1
    fi
}

# shot FILE URL
shot() {
    browse --screenshot="$out/$1" "$2" > /dev/null 2>&1
    if [ ! -s "$out/$1" ]; then
        echo "no screenshot $1" >&2
        status=1
    fi
}

"$vmsim" run --quiet --html "$out/known.html" "$here/known.lua"
check_page known "$here/check.js"
# One screenshot per view: the last step; the walk of the third page.
for view in as pt tlb mem time; do
    shot "report-$view.png" "file://$out/known.html#view=$view&addr=0x10002000"
done

"$vmsim" run --quiet --html "$out/swap.html" "$top/examples/14_swap.lua" > /dev/null
check_page swap "$here/check_swap.js"
# The timeline at the step that touched twice the RAM, scrolled to the lane.
step=$(grep -o '"n":"[a-z_]*"' "$out/swap.html" | grep -n '"n":"madvise"' | head -1 | cut -d: -f1)
shot report-reclaim.png "file://$out/swap.html#view=time&step=$((step - 1))"

# vmsim replay --html of a made-up trace (code, a stack, an array walked,
# scattered stores), replayed again at three RAM sizes; the check gets the
# --json lines of the same replay to hold the page against.
awk 'BEGIN { x = 7
  for (rep = 0; rep < 2; rep++)
    for (i = 0; i < 3000; i++) {
      printf "I  %08x,4\n", 4198400 + (i % 200) * 4
      printf " S %x,8\n", 137421533184 - (i % 64) * 8
      printf " L %08x,8\n", 77594624 + i * 512
      x = (x * 1103515245 + 12345) % 2147483648
      printf " M %x,4\n", 139637976727552 + (x % 4194304)
    } }' > "$out/trace.txt"
"$vmsim" convert "$out/trace.txt" -o "$out/trace.vmt"
"$vmsim" replay -q --ram 1M,2M,4M --html "$out/replay.html" "$out/trace.vmt" > /dev/null
{ echo "window.replayJson = ["
  "$vmsim" replay -q --json --ram 1M,2M,4M "$out/trace.vmt" | sed 's/$/,/'
  echo "];"
} > "$out/replay-json.js"
cat "$out/replay-json.js" "$here/check_replay.js" > "$out/replay-check.js"
check_page replay "$out/replay-check.js"
browse --window-size=1280,2000 --screenshot="$out/report-replay.png" "file://$out/replay.html" > /dev/null 2>&1
[ -s "$out/report-replay.png" ] || { echo "no screenshot report-replay.png" >&2; status=1; }

[ $status -eq 0 ] && echo "report browser test: every check passed, screenshots in $out"
exit $status
