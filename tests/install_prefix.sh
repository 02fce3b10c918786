#!/bin/sh
# The README's advice for programs built against an install: install into a
# new prefix, build a small program with `pkg-config --cflags --libs vmsim`,
# and check that it needs the library path at run time (the shared library is
# outside the loader's path) and runs with LD_LIBRARY_PATH or with an rpath.
# Usage: install_prefix.sh BUILD_DIR C_COMPILER
set -eu
build=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
# Staged under DESTDIR as a package is, then moved into place: nothing may
# land outside the temporary folder, even a file whose destination is an
# absolute path.
DESTDIR=$tmp/stage cmake --install "$build" --prefix "$prefix" >/dev/null
mv "$tmp/stage$prefix" "$prefix"
for f in bin/vmsim include/vmsim.h share/man/man1/vmsim.1; do
    [ -f "$prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
pc=$(find "$prefix" -name vmsim.pc)
[ -n "$pc" ] || { echo "vmsim.pc not installed" >&2; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir vmsim)
case $libdir in
"$prefix"/*) ;;
*) echo "vmsim.pc names libdir $libdir, outside $prefix" >&2; exit 1 ;;
esac

cat >"$tmp/hello.c" <<'PROGRAM'
#include <vmsim.h>
#include <string.h>

static void print(void *arg, const struct vms_event *ev)
{
    char line[160];
    (void)arg;
    if (ev->kind == VMS_EV_FAULT && vms_event_format(ev, line, sizeof(line)) > 0)
        puts(line);
}

int main(void)
{
    struct vms_config cfg;
    char msg[80];
    vms_config_init(&cfg);
    cfg.phys_bytes = 64 << 20;
    cfg.trace = print;
    if (vms_config_check(&cfg, msg, sizeof(msg)))
        return 1;
    vms_machine *m = vms_machine_create(&cfg);
    vms_task *t = m ? vms_spawn(m, "hello") : NULL;
    int64_t a = t ? vms_mmap(t, 0, 4096, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : -1;
    int ok = a >= 0 && vms_store(t, (vms_addr)a, "Hi", 2) == 0;
    vms_machine_destroy(m);
    return ok ? 0 : 1;
}
PROGRAM
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
"$cc" -o "$tmp/hello" "$tmp/hello.c" $(pkg-config --cflags --libs vmsim)
if "$tmp/hello" >"$tmp/out" 2>"$tmp/err"; then
    echo "the program ran without the library path: the README's advice is not needed?" >&2
    exit 1
fi
grep -q "libvmsim" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
want="fault  CPU 0  anonymous, demand-zero: frame 0x00006000 zeroed, PTE[510] -> it"
LD_LIBRARY_PATH=$libdir "$tmp/hello" >"$tmp/out"
[ "$(cat "$tmp/out")" = "$want" ] || { echo "LD_LIBRARY_PATH run printed: $(cat "$tmp/out")" >&2; exit 1; }
# shellcheck disable=SC2046
"$cc" -o "$tmp/hello-rpath" "$tmp/hello.c" $(pkg-config --cflags --libs vmsim) -Wl,-rpath,"$libdir"
"$tmp/hello-rpath" >"$tmp/out"
[ "$(cat "$tmp/out")" = "$want" ] || { echo "rpath run printed: $(cat "$tmp/out")" >&2; exit 1; }
"$prefix/bin/vmsim" --version
echo "built and ran against $prefix: LD_LIBRARY_PATH and rpath both work"
