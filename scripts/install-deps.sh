#!/bin/sh
# Installs the Debian packages vmsim needs to build and test, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
# lua5.4 and liblua5.4-dev are required (the Lua binding, vmsim run, their
# tests). valgrind is optional: without it the valgrind tests are left out.
set -e
need=""
want=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in gcc make cmake pkg-config libcmocka-dev lua5.4 liblua5.4-dev; do
    have "$pkg" || need="$need $pkg"
done
have valgrind || command -v valgrind >/dev/null 2>&1 || want=" valgrind"
[ -z "$need$want" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$need$want"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if [ -n "$need" ]; then
        apt-get install -y -qq --no-install-recommends $need
    fi
    if [ -n "$want" ]; then
        apt-get install -y -qq --no-install-recommends $want ||
            echo "could not install$want: the valgrind tests are left out" >&2
    fi
elif [ -n "$need" ]; then
    echo "vmsim needs:$need" >&2
    echo "run: sudo apt-get install -y$need$want" >&2
    exit 1
else
    echo "optional:$want (the valgrind tests are left out without it)" >&2
    echo "run: sudo apt-get install -y$want" >&2
fi
