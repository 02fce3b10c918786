#!/bin/sh
# Installs the Debian packages vmsim needs to build and test, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
# valgrind, python3 and groff are optional: without one, its tests are left out.
set -e
need=""
want=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in gcc make cmake pkg-config libcmocka-dev; do
    have "$pkg" || need="$need $pkg"
done
have valgrind || command -v valgrind >/dev/null 2>&1 || want=" valgrind"
command -v python3 >/dev/null 2>&1 || want="$want python3"
command -v groff >/dev/null 2>&1 || want="$want groff-base"
command -v man >/dev/null 2>&1 || want="$want man-db"
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
            echo "could not install$want: their tests are left out" >&2
    fi
elif [ -n "$need" ]; then
    echo "vmsim needs:$need" >&2
    echo "run: sudo apt-get install -y$need$want" >&2
    exit 1
else
    echo "optional:$want (their tests are left out without them)" >&2
    echo "run: sudo apt-get install -y$want" >&2
fi
