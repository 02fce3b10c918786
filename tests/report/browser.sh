#!/bin/sh
# The report in a real browser: `vmsim run --html` writes the page of
# tests/report/known.lua, headless Chromium loads it with check.js appended
# (the views hold what the run did, the step control and the keyboard work)
# and must log no console message at all (no error, no warning, no stray
# output); then one screenshot of each view, kept in OUT as build artefacts
# (`make screenshots` copies them into docs/img/).
# Usage: browser.sh VMSIM CHROMIUM OUT_DIR
set -eu
vmsim=$1
chromium=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd) # file:// URLs need an absolute path
rm -f "$out"/report-*.png "$out/known-check.dom"
page="$out/known.html"
"$vmsim" run --quiet --html "$page" "$here/known.lua"

# The page with the test appended, before </body>.
awk -v js="$here/check.js" '
  /<\/body>/ { print "<script>"; while ((getline line < js) > 0) print line; print "</script>" }
  { print }' "$page" > "$out/known-check.html"

browse() {
    # root may not use the sandbox; no GPU here; a fixed window for shots
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --no-first-run --disable-extensions --window-size=1280,900 \
        --virtual-time-budget=5000 "$@"
}

browse --enable-logging=stderr --v=0 --dump-dom "file://$out/known-check.html" \
    > "$out/known-check.dom" 2> "$out/known-check.log"
status=0
if ! grep -q '<pre id="report-check">REPORT-CHECK PASS' "$out/known-check.dom"; then
    echo "the page's checks failed:" >&2
    sed -n '/<pre id="report-check">/,/<\/pre>/p' "$out/known-check.dom" >&2
    status=1
fi
if grep -q 'CONSOLE' "$out/known-check.log"; then
    echo "the page logged to the console:" >&2
    grep 'CONSOLE' "$out/known-check.log" >&2
    status=1
fi

# One screenshot per view: the last step; the walk of the third page.
for view in as pt tlb mem time; do
    browse --screenshot="$out/report-$view.png" \
        "file://$page#view=$view&addr=0x10002000" > /dev/null 2>&1
    if [ ! -s "$out/report-$view.png" ]; then
        echo "no screenshot of the $view view" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "report browser test: every check passed, screenshots in $out"
exit $status
