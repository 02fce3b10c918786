#!/bin/sh
# Runs one binding test script in a scratch folder of its own, which the
# script gets as its last argument (its machines' root), and removes it.
# VMSIM_LUA_PRELOAD, when set, is the command's LD_PRELOAD (and only its:
# the sanitizer runtimes a module built with ASan needs in lua5.4).
# usage: run.sh COMMAND... (the folder is appended)
set -e
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-lua-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
if [ -n "${VMSIM_LUA_PRELOAD:-}" ]; then
    LD_PRELOAD=$VMSIM_LUA_PRELOAD "$@" "$dir"
else
    "$@" "$dir"
fi
