#!/bin/sh
# make install's Lua module: installed under the prefix (PREFIX/lib/lua/5.4,
# where lua5.4 looks when PREFIX is /usr/local), nothing outside it, and
# loadable by the standard interpreter from there.
# Usage: install_module.sh BUILD_DIR
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
DESTDIR=$tmp/stage cmake --install "$build" --prefix "$prefix" >/dev/null
[ -d "$tmp/stage$prefix" ] || { echo "nothing installed under the prefix" >&2; exit 1; }
outside=$(cd "$tmp/stage" && find . -type f | grep -v "^.$prefix/" || true)
[ -z "$outside" ] || { echo "installed outside the prefix: $outside" >&2; exit 1; }
module=$tmp/stage$prefix/lib/lua/5.4/vmsim.so
[ -f "$module" ] || { echo "not installed: lib/lua/5.4/vmsim.so" >&2; exit 1; }
LUA_CPATH="$tmp/stage$prefix/lib/lua/5.4/?.so" lua5.4 -e '
local vmsim = require "vmsim"
local m = vmsim.machine{ram = "16M", cpus = 1}
local t = m:spawn("installed")
local a = assert(t:mmap(0, 4096, "rw", "private|anonymous"))
assert(t:store(a, "ok"))
assert(t:load(a, 2) == "ok")
m:destroy()
print("the installed module works")'
