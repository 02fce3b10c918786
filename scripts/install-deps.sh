#!/bin/sh
# Installs the Debian packages vmsim needs to build and test, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Optional ones leave their tests out when missing, and say so:
#   valgrind                    the valgrind tests
#   clang, libclang-rt-N-dev    the fuzz targets (libFuzzer: `make fuzz`,
#                               the fuzz_* tests), N being clang's version
set -e
need=""
want=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in gcc make cmake pkg-config libcmocka-dev; do
    have "$pkg" || need="$need $pkg"
done
have valgrind || command -v valgrind >/dev/null 2>&1 || want=" valgrind"
# libFuzzer's runtime comes with the clang release: libclang-rt-14-dev for
# clang 14 (Debian 12).
fuzz_packages() {
    if command -v clang >/dev/null 2>&1; then
        major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
        [ -n "$major" ] && ! have "libclang-rt-$major-dev" && echo " libclang-rt-$major-dev"
    else
        echo " clang libclang-rt-14-dev"
    fi
    return 0
}
fuzz=$(fuzz_packages)
[ -z "$need$want$fuzz" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$need$want$fuzz"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if [ -n "$need" ]; then
        apt-get install -y -qq --no-install-recommends $need
    fi
    if [ -n "$want" ]; then
        apt-get install -y -qq --no-install-recommends $want ||
            echo "could not install$want: the valgrind tests are left out" >&2
    fi
    if [ -n "$fuzz" ]; then
        apt-get install -y -qq --no-install-recommends $fuzz ||
            echo "could not install$fuzz: the fuzz tests are skipped and make fuzz cannot run" >&2
    fi
elif [ -n "$need" ]; then
    echo "vmsim needs:$need" >&2
    echo "run: sudo apt-get install -y$need$want$fuzz" >&2
    exit 1
else
    [ -n "$want" ] && echo "optional:$want (the valgrind tests are left out without it)" >&2
    [ -n "$fuzz" ] && echo "optional:$fuzz (the fuzz tests are skipped and make fuzz cannot run without it)" >&2
    echo "run: sudo apt-get install -y$want$fuzz" >&2
fi
