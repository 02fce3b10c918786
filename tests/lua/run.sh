#!/bin/sh
# Runs one binding test script in a scratch folder of its own, which the
# script gets as its last argument (its machines' root), and removes it.
# usage: run.sh COMMAND... (the folder is appended)
set -e
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-lua-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$@" "$dir"
