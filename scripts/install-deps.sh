#!/bin/sh
# Installs the Debian packages vmsim needs to build and test, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -e
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in gcc make cmake pkg-config libcmocka-dev; do
    have "$pkg" || need="$need $pkg"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $need
else
    echo "vmsim needs:$need" >&2
    echo "run: sudo apt-get install -y$need" >&2
    exit 1
fi
