#!/usr/bin/env python3
"""Checks JSON event lines (docs/events.md) with Python's own json module:
one object per line, every field named and in order, the schema version,
the value types. Usage: check_events_json.py [--run PROGRAM] [KIND...]:
the lines of `PROGRAM --json-lines` (its exit status must be 0), or stdin;
each KIND named must appear. Exit 1 with the number of the first bad line."""
import json
import re
import subprocess
import sys

FIELDS = ["v", "type", "kind", "cpu", "level", "index", "a", "b", "pa", "entry", "detail"]
KINDS = {"tlb-miss", "walk", "pgtable-alloc", "pgtable-free", "fault", "frame-alloc",
         "frame-free", "tlb-fill", "flush", "ipi", "cr3", "signal", "fork", "oom-kill", "pwc-hit",
         "reclaim-begin", "reclaim-end", "swap-out", "swap-in", "pageout", "refault", "unknown"}
HEX = re.compile(r"^0x[0-9a-f]+$")
# The fields the reclaim kinds carry (docs/events.md); the others are null.
USED = {"reclaim-begin": {"a", "b", "detail"},
        "reclaim-end": {"a", "b", "index", "level", "detail"},
        "swap-out": {"a", "b", "pa", "entry", "detail"},
        "swap-in": {"b", "pa", "detail"},
        "pageout": {"a", "pa", "level"},
        "refault": {"a", "b", "pa", "detail"}}


def check(line):
    obj = json.loads(line)
    assert isinstance(obj, dict), "not an object"
    assert list(obj) == FIELDS, "fields %s" % list(obj)
    assert obj["v"] == 1 and obj["type"] == "event", "version or type"
    assert obj["kind"] in KINDS, "kind %r" % obj["kind"]
    for name in ("cpu", "level", "index"):
        assert obj[name] is None or isinstance(obj[name], int), name
    for name in ("a", "b", "pa", "entry"):
        assert obj[name] is None or HEX.match(obj[name]), name
        if obj[name] is not None:
            assert int(obj[name], 16) < 2 ** 64, name
    assert obj["detail"] is None or isinstance(obj["detail"], str), "detail"
    if obj["kind"] in USED:
        for name in FIELDS[3:]:
            assert (obj[name] is not None) == (name in USED[obj["kind"]]), name
    return obj["kind"]


def event_lines(args):
    if args[:1] == ["--run"]:
        run = subprocess.run([args[1], "--json-lines"], stdout=subprocess.PIPE, check=True,
                             universal_newlines=True)
        return run.stdout.splitlines(keepends=True), args[2:]
    return sys.stdin.readlines(), args


def main():
    kinds = set()
    count = 0
    lines, required = event_lines(sys.argv[1:])
    for number, line in enumerate(lines, 1):
        assert line.endswith("\n") and "\n" not in line[:-1]
        try:
            kinds.add(check(line))
        except (ValueError, AssertionError) as err:
            print("line %d: %s: %s" % (number, err, line.rstrip()), file=sys.stderr)
            return 1
        count += 1
    if count == 0:
        print("no events", file=sys.stderr)
        return 1
    missing = set(required) - kinds
    if missing:
        print("no event of kind %s" % " ".join(sorted(missing)), file=sys.stderr)
        return 1
    print("%d events, kinds: %s" % (count, " ".join(sorted(kinds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
