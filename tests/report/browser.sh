#!/bin/sh
# The report in a real browser: `vmsim run --html` writes the page of
# tests/report/known.lua, headless Chromium loads it with check.js appended
# (the views hold what the run did, the VMA tree is --dot's, the step
# control and the keyboard work)
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

"$vmsim" run --quiet --html "$out/known.html" --dot "$out/dot" "$here/known.lua"
# --dot's VMA trees, for the check to hold the page's tree against: each
# node's colour, children and gaps, and the root (the node no edge reaches).
{
    echo "window.dotTrees = {};"
    for dot in "$out"/dot/machine-1-task-*-vma-tree.dot; do
        pid=${dot##*-task-}
        pid=${pid%%-*}
        awk -v pid="$pid" '
          function field(line, from, to,   s) {
            if (!match(line, from)) return ""
            s = substr(line, RSTART + length(from))
            return substr(s, 1, index(s, to) - 1)
          }
          /^  v_[0-9a-f]+ \[shape=box/ {
            id = substr($1, 3)
            ids[++n] = id
            col[id] = index($0, "<B>red</B>") ? "red" : "black"
            gap[id] = field($0, "gap below ", "<BR/>")
            sub_[id] = field($0, "largest gap in subtree ", ">]")
          }
          /^  v_[0-9a-f]+ -> v_[0-9a-f]+ \[label="(left|right)"\]/ {
            from = substr($1, 3); to = substr($3, 3)
            side = index($0, "\"left\"") ? "left" : "right"
            kid[from, side] = to; child[to] = 1
          }
          END {
            printf "window.dotTrees[\"%s\"] = {colour: {}, left: {}, right: {}, gap: {}, sub: {}, root: \"\"};\n", pid
            for (i = 1; i <= n; i++) {
              id = ids[i]
              printf "Object.assign(window.dotTrees[\"%s\"].colour, {\"%s\": \"%s\"});\n", pid, id, col[id]
              printf "window.dotTrees[\"%s\"].gap[\"%s\"] = \"%s\"; window.dotTrees[\"%s\"].sub[\"%s\"] = \"%s\";\n", pid, id, gap[id], pid, id, sub_[id]
              if ((id, "left") in kid) printf "window.dotTrees[\"%s\"].left[\"%s\"] = \"%s\";\n", pid, id, kid[id, "left"]
              if ((id, "right") in kid) printf "window.dotTrees[\"%s\"].right[\"%s\"] = \"%s\";\n", pid, id, kid[id, "right"]
              if (!(id in child)) printf "window.dotTrees[\"%s\"].root = \"%s\";\n", pid, id
            }
          }' "$dot"
    done
} > "$out/dot-trees.js"
cat "$out/dot-trees.js" "$here/check.js" > "$out/known-check.js"
check_page known "$out/known-check.js"
# One screenshot per view: the last step; the walk of the third page.
for view in as pt tlb mem time tree; do
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
awk 'BEGIN { x = 7 # every number below 2^31: any awk prints it in hex
  for (rep = 0; rep < 2; rep++)
    for (i = 0; i < 3000; i++) {
      printf "I  %08x,4\n", 4198400 + (i % 200) * 4
      printf " S 1ffe%06x,8\n", 16773120 - (i % 64) * 8
      printf " L %08x,8\n", 77594624 + i * 512
      x = (x * 75 + 74) % 65537
      printf " M 7f00%08x,4\n", (x % 1024) * 4096 + (x % 61) * 8
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
