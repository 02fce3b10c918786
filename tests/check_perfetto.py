#!/usr/bin/env python3
"""Checks `--perfetto FILE` of vmsim run, demo and compare.

  check_perfetto.py VMSIM run SCRIPT.lua
  check_perfetto.py VMSIM demo
  check_perfetto.py VMSIM compare SCENARIO

Each mode runs the tool twice and wants the same bytes (the clock is the
run's own), parses the file with Python's json module, checks the Chrome
trace-event structure (every record's phase and fields, a named track for
every call and event, ticks that never repeat), then what the run did:
  run      the calls and events, in order and field for field, are those
           `vmsim run --json --stats` prints for the same script, each on
           its machine, and each machine's last counters its final stats;
           reclaim's events on the machine's "reclaim" track, each pass a
           slice from its reclaim-begin to its reclaim-end;
  demo     the story's chapters and calls in order, the major fault under
           the first load, the IPI to CPU 1 under munmap;
  compare  one call per step of the scenario, in order.
"""
import json
import os
import subprocess
import sys
import tempfile

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def run_twice(argv_with_file):
    """Runs the command twice, FILE replaced by two paths; returns the
    parsed file of the first run."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")]
        for p in paths:
            argv = [p if a == "FILE" else a for a in argv_with_file]
            done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if done.returncode != 0:
                fail("%s exited %d: %s" % (" ".join(argv), done.returncode, done.stderr.decode()))
        blobs = [open(p, "rb").read() for p in paths]
        if blobs[0] != blobs[1]:
            fail("two runs wrote different files")
        return json.loads(blobs[0].decode("ascii"))


def check_structure(doc):
    """The trace-event format as Perfetto reads it; returns the records."""
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        fail("not a JSON object with a traceEvents array")
        return []
    recs = doc["traceEvents"]
    named = set()
    for r in recs:
        if r.get("ph") == "M" and r.get("name") == "thread_name":
            named.add((r["pid"], r["tid"]))
    seen_ts = set()
    for r in recs:
        ph = r.get("ph")
        if ph not in ("M", "X", "i", "C"):
            fail("unknown phase in %r" % r)
            continue
        if not isinstance(r.get("pid"), int) or r["pid"] < 1 or not isinstance(r.get("ts"), int):
            fail("bad pid or ts in %r" % r)
        if ph == "M":
            if r.get("name") not in ("process_name", "process_sort_index", "thread_name",
                                     "thread_sort_index"):
                fail("unknown metadata %r" % r)
            continue
        if ph == "C":
            if not r["args"] or not all(isinstance(v, int) for v in r["args"].values()):
                fail("a counter without integer values: %r" % r)
            continue
        if (r["pid"], r["tid"]) not in named:
            fail("a record on an unnamed track: %r" % r)
        if r.get("cat") == "reclaim":
            continue  # a pass's slice: the ticks of its begin and end events
        if r["ts"] in seen_ts:
            fail("tick %d used twice" % r["ts"])
        seen_ts.add(r["ts"])
        if ph == "X" and (not isinstance(r.get("dur"), int) or r["dur"] < 1):
            fail("a call without a duration: %r" % r)
        if ph == "i":
            if r.get("s") != "t" or r["args"].get("type") != "event":
                fail("an instant that is not a thread-scoped event: %r" % r)
            elif not r["name"].startswith(r["args"]["kind"]):
                fail("an event named %r is a %r" % (r["name"], r["args"]["kind"]))
    return recs


def timeline(recs):
    """Calls and events in the order --json writes them: an event when it
    happens, a call when it returns."""
    items = [r for r in recs if r["ph"] in ("X", "i") and r.get("cat") not in ("step", "reclaim")]
    return sorted(items, key=lambda r: r["ts"] + r.get("dur", 0))


def track_name(recs, pid, tid):
    for r in recs:
        if r["ph"] == "M" and r["name"] == "thread_name" and (r["pid"], r["tid"]) == (pid, tid):
            return r["args"]["name"]
    return None


RECLAIM_KINDS = {"reclaim-begin", "reclaim-end", "swap-out", "swap-in", "pageout", "refault"}


def check_reclaim(recs):
    """Reclaim's events on the reclaim track; each pass one slice, named
    by its begin's detail, from the begin's tick to the end's."""
    events = [r for r in recs if r["ph"] == "i" and r["args"]["kind"] in RECLAIM_KINDS]
    for e in events:
        if track_name(recs, e["pid"], e["tid"]) != "reclaim":
            fail("a %s event off the reclaim track" % e["args"]["kind"])
    begins = {(e["pid"], e["ts"]): e for e in events if e["args"]["kind"] == "reclaim-begin"}
    ends = {(e["pid"], e["ts"]): e for e in events if e["args"]["kind"] == "reclaim-end"}
    slices = [r for r in recs if r["ph"] == "X" and r.get("cat") == "reclaim"]
    if len(slices) != len(begins) or len(slices) != len(ends):
        fail("%d reclaim slices, %d begins, %d ends" % (len(slices), len(begins), len(ends)))
    for s in slices:
        b = begins.get((s["pid"], s["ts"]))
        e = ends.get((s["pid"], s["ts"] + s["dur"]))
        if not b or not e or b["args"]["detail"] != e["args"]["detail"]:
            fail("a reclaim slice not from a begin to its end: %r" % s)
        elif s["name"] != ("kswapd" if b["args"]["detail"] == "kswapd" else "direct reclaim"):
            fail("a %s pass named %r" % (b["args"]["detail"], s["name"]))
    return events


def check_run(vmsim, script):
    recs = check_structure(run_twice([vmsim, "run", "--quiet", "--perfetto", "FILE", script]))
    out = subprocess.run([vmsim, "run", "--json", "--stats", script], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    want = [l for l in lines if l["type"] in ("call", "event")]
    got = timeline(recs)
    # then the events of the machines' teardown, which --json does not tell
    if len(got) < len(want) or any(g["ph"] != "i" for g in got[len(want):]):
        fail("%d calls and events in the file, %d from --json" % (len(got), len(want)))
    # an event belongs to the machine of the call it came under: the next one
    machine_of = [None] * len(want)
    nxt = None
    for i in range(len(want) - 1, -1, -1):
        if want[i]["type"] == "call" and i < len(got):
            nxt = got[i]["pid"]
        machine_of[i] = nxt
    for i, (g, w) in enumerate(zip(got, want)):
        if w["type"] == "event":
            if g["ph"] != "i" or g["args"] != w:
                fail("item %d: %r, not the event %r" % (i, g, w))
                break
            if machine_of[i] is not None and g["pid"] != machine_of[i]:
                fail("event %d on machine %d, its call's is %r" % (i, g["pid"], machine_of[i]))
            if w["cpu"] is not None and track_name(recs, g["pid"], g["tid"]) != "CPU %d" % w["cpu"]:
                fail("event %d is not on CPU %d's track" % (i, w["cpu"]))
        else:
            if g["ph"] != "X" or g["name"] != w["name"]:
                fail("item %d: %r, not the call %r" % (i, g, w))
                break
            target = w["target"] or w["results"][0]
            if g["pid"] != target["machine"]:
                fail("call %d (%s) on machine %d, not %d" % (i, w["name"], g["pid"], target["machine"]))
            want_track = "task %d" % target["task"] if "task" in target else "machine"
            if track_name(recs, g["pid"], g["tid"]) != want_track:
                fail("call %d (%s) is not on the track %r" % (i, w["name"], want_track))
    # an event lies inside the call it came under
    for i, (g, w) in enumerate(zip(got, want)):
        if w["type"] == "call":
            evs = []
            j = i - 1
            while j >= 0 and want[j]["type"] == "event":
                evs.append(got[j])
                j -= 1
            for e in evs:
                if not g["ts"] < e["ts"] < g["ts"] + g["dur"]:
                    fail("event at %d outside its call %s [%d, %d]" % (e["ts"], g["name"], g["ts"],
                                                                          g["ts"] + g["dur"]))
    check_reclaim(recs)
    stats = {l["machine"]: l for l in lines if l["type"] == "stats"}
    last = {}
    for r in recs:
        if r["ph"] == "C":
            last[(r["pid"], r["name"])] = r["args"]
    for m, s in stats.items():
        faults = last.get((m, "page faults"))
        frames = last.get((m, "frames used"))
        misses = last.get((m, "TLB misses"))
        if faults != {"minor": s["minor_faults"], "major": s["major_faults"]}:
            fail("machine %d: last page faults %r, stats say %d/%d" % (m, faults, s["minor_faults"],
                                                                        s["major_faults"]))
        if not frames or frames["frames"] != s["frames_used"] or frames["page tables"] != s["pgtable_frames"]:
            fail("machine %d: last frames used %r, stats say %d" % (m, frames, s["frames_used"]))
        if not misses or misses["misses"] != s["tlb_misses"]:
            fail("machine %d: last TLB misses %r, stats say %d" % (m, misses, s["tlb_misses"]))
        memory = last.get((m, "memory"))
        if not memory or memory != {"free frames": s["frames_total"] - s["frames_used"],
                                    "swap used": s["swap_used"]}:
            fail("machine %d: last memory %r, stats say %d frames free, %d swap used"
                 % (m, memory, s["frames_total"] - s["frames_used"], s["swap_used"]))
    if not stats:
        fail("--stats printed no machine")


def calls_of(recs):
    return [r for r in sorted(recs, key=lambda r: r.get("ts", 0)) if r["ph"] == "X" and r["cat"] == "call"]


def events_under(recs, call):
    return [r for r in recs if r["ph"] == "i" and call["ts"] < r["ts"] < call["ts"] + call["dur"]]


def check_demo(vmsim):
    recs = check_structure(run_twice([vmsim, "demo", "--no-color", "--perfetto", "FILE"]))
    chapters = [r["name"] for r in sorted(recs, key=lambda r: r.get("ts", 0))
                if r["ph"] == "X" and r["cat"] == "step"]
    if [c.split(".")[0] for c in chapters] != [str(n) for n in range(1, 9)]:
        fail("the chapters are %r" % chapters)
    calls = calls_of(recs)
    names = [c["name"] for c in calls]
    want = ["spawn", "schedule", "open", "fstat", "mmap", "close", "load", "store", "msync",
            "thread", "schedule", "load", "load", "munmap", "load"]
    if names != want:
        fail("the demo's calls are %r" % names)
        return
    first_load = events_under(recs, calls[6])
    if not any(e["args"]["kind"] == "frame-alloc" and e["args"]["detail"] == "page cache"
               for e in first_load):
        fail("no major fault under the first load")
    if calls[6]["tid"] != 1000 or calls[11]["tid"] != 1001:
        fail("the loads are not on their tasks' tracks")
    ipis = [e for e in events_under(recs, calls[13]) if e["args"]["kind"] == "ipi"]
    if len(ipis) != 1 or track_name(recs, ipis[0]["pid"], ipis[0]["tid"]) != "CPU 1":
        fail("munmap did not interrupt CPU 1 once: %r" % ipis)
    if calls[14]["args"]["result"] != "SIGSEGV":
        fail("the load after munmap gave %r" % calls[14]["args"]["result"])


def check_compare(vmsim, scenario):
    recs = check_structure(run_twice([vmsim, "compare", "--perfetto", "FILE", scenario]))
    steps = [l.split()[0] for l in open(scenario) if l.strip() and not l.startswith("#")
             and l.split()[0] not in ("set",)]
    steps = [s for s in steps if not s.startswith("@")] or steps
    names = [c["name"] for c in calls_of(recs)]
    if names != steps:
        fail("the calls are %r, the scenario's steps %r" % (names, steps))


def main():
    vmsim, mode = sys.argv[1], sys.argv[2]
    if mode == "run":
        check_run(vmsim, sys.argv[3])
        if sys.argv[4:] == ["--reclaim"]:
            recs = check_structure(run_twice([vmsim, "run", "--quiet", "--perfetto", "FILE",
                                              sys.argv[3]]))
            kinds = {e["args"]["kind"] for e in check_reclaim(recs)}
            if not {"reclaim-begin", "reclaim-end", "swap-out", "swap-in"} <= kinds:
                fail("the run's reclaim track holds only %r" % sorted(kinds))
    elif mode == "demo":
        check_demo(vmsim)
    elif mode == "compare":
        check_compare(vmsim, sys.argv[3])
    else:
        sys.exit("unknown mode " + mode)
    if failures:
        sys.exit(1)
    print("ok: %s" % mode, flush=True)


if __name__ == "__main__":
    main()
