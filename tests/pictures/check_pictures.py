#!/usr/bin/env python3
"""Checks the static pictures of a run: `--dot DIR` (and `--svg DIR`).

  check_pictures.py VMSIM dot [--render]
  check_pictures.py VMSIM svg
  check_pictures.py VMSIM svg-reclaim SCRIPT
  check_pictures.py VMSIM svg-swap SCRIPT...

Runs tests/pictures/scene.lua twice (each time in a new root folder of
the same path) with
the option and wants the same files, byte for byte. Then checks each
picture against what the scene printed (its maps, the walk of 1 GiB, the
machine's page-table count):
  dot  each address space's page-table graph is a tree of tables rooted at
       one PGD, whose tables over all address spaces are the machine's
       page-table frames; the walk of 0x40000000 is highlighted from the
       PGD down to the frame t:walk reports; each VMA tree graph has one
       node per maps line, the same ranges, in order when read in order,
       and is a red-black tree (no red node with a red child, the same
       number of black nodes on every path to a NIL leaf). With --render,
       `dot -Tsvg` draws every graph without a word on stderr.
  svg  every file is well-formed XML (xml.etree) with a <title> and a
       <desc>, and holds what the run did (see check_svg).
  svg-reclaim  the timeline of a script that swaps (examples/14_swap.lua)
       draws reclaim's events in their own colour, as many of each kind
       as `vmsim run --json` of the same script raises.
  svg-swap  the same timeline's swap plot holds, after each call, the
       pages swapped out and in that `--json` of the script counts in
       swap-out and swap-in events up to that call, and at each `stats`
       call that call's swap_used, pswpin and pswpout
       (tests/pictures/swap_free.lua frees swap slots, so that swap used
       and pswpout part).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCENE = os.path.join(HERE, "scene.lua")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr, flush=True)


def run_scene(vmsim, option, tmp, name):
    out_dir = os.path.join(tmp, name)
    root = os.path.join(tmp, "root")  # the same path each time: the timeline shows it
    shutil.rmtree(root, ignore_errors=True)
    os.mkdir(root)
    argv = [vmsim, "run", "--quiet", option, out_dir, "--walk", "0x40000000", SCENE, root]
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(argv), done.returncode, done.stderr.decode()))
    return out_dir, done.stdout.decode()


def parse_scene_output(text):
    maps, walk_pa, tables = {}, None, None
    pid = None
    for line in text.splitlines():
        if line.startswith("cpu1 "):
            maps["cpu1"] = [int(w, 16) for w in line.split()[1:]]
            pid = None
        elif line.startswith("maps "):
            pid = int(line.split()[1])
            maps[pid] = []
        elif line.startswith("walk "):
            walk_pa = int(line.split()[2], 16)
            pid = None
        elif line.startswith("pgtable_frames "):
            tables = int(line.split()[1])
        elif pid is not None and line.strip():
            lo, hi = line.split()[0].split("-")
            maps[pid].append((int(lo, 16), int(hi, 16), line))
    return maps, walk_pa, tables


def same_files(a, b):
    names = sorted(os.listdir(a))
    if names != sorted(os.listdir(b)):
        fail("two runs wrote different files: %r, %r" % (names, sorted(os.listdir(b))))
        return names
    for n in names:
        if open(os.path.join(a, n), "rb").read() != open(os.path.join(b, n), "rb").read():
            fail("two runs wrote different %s" % n)
    return names


# ---- dot ----

EDGE = re.compile(r"^\s*(\w+)(?::(\w+))?(?::\w+)? -> (\w+)(?::\w+)?( \[([^\]]*)\])?;$")
NODE = re.compile(r"^\s*(\w+) \[(.*)$")


def parse_dot(path):
    nodes, edges = {}, []
    text = open(path).read()
    if not text.startswith("digraph ") or not text.rstrip().endswith("}"):
        fail("%s is not one digraph" % path)
    current = None
    for line in text.splitlines():
        m = EDGE.match(line)
        if m:
            edges.append({"from": m.group(1), "port": m.group(2), "to": m.group(3),
                          "attrs": m.group(5) or ""})
            continue
        m = NODE.match(line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            current = m.group(1)
            nodes[current] = m.group(2)
        elif current and not line.startswith("  "):
            nodes[current] += "\n" + line
    return nodes, edges


def check_pgtable(path, walk_pa):
    nodes, edges = parse_dot(path)
    tables = {n for n in nodes if n.startswith("t_")}
    children = [e for e in edges if e["from"] in tables and e["to"] in tables]
    parents = {}
    for e in children:
        if e["to"] in parents:
            fail("%s: table %s has two parents" % (path, e["to"]))
        parents[e["to"]] = e["from"]
    roots = [t for t in tables if t not in parents]
    if len(roots) != 1 or "PGD" not in nodes.get(roots[0], ""):
        fail("%s: the tables do not hang from one PGD: %r" % (path, roots))
    for t in tables:
        m = re.search(r"(\d+) present, (\d+) used", nodes[t])
        shown = nodes[t].count("<TR>") - 1
        if not m or (int(m.group(2)) <= 24 and shown != int(m.group(2))):
            fail("%s: table %s lists %d entries, says %r" % (path, t, shown, m and m.group(0)))
    walk = [e for e in edges if "penwidth=3" in e["attrs"]]
    if walk_pa is not None:
        chain = roots[0] if roots else None
        steps = 0
        while chain and chain.startswith("t_"):
            nxt = [e for e in walk if e["from"] == chain]
            if len(nxt) != 1:
                fail("%s: the walk leaves %s %d times" % (path, chain, len(nxt)))
                break
            chain = nxt[0]["to"]
            steps += 1
        if steps != 4 or chain != "f_%x" % (walk_pa >> 12):
            fail("%s: the walk goes %d steps to %r, not 4 to frame 0x%x" % (path, steps, chain,
                                                                            walk_pa >> 12))
    return len(tables)


def black_height(tree, node, path):
    """The black nodes on every path from node down to a NIL leaf (None when
    the paths disagree)."""
    if node is None:
        return 1
    kids = tree[node]["kids"]
    heights = [black_height(tree, k, path) for k in kids]
    if None in heights or len(set(heights)) != 1:
        return None
    return heights[0] + (0 if tree[node]["red"] else 1)


def check_vma_tree(path, maps):
    nodes, edges = parse_dot(path)
    tree = {}
    for n, label in nodes.items():
        if not n.startswith("v_"):
            continue
        m = re.search(r"<B>(red|black)</B> 0x([0-9a-f]+)-0x([0-9a-f]+)", label)
        if not m:
            fail("%s: node %s has no colour and range" % (path, n))
            continue
        tree[n] = {"red": m.group(1) == "red", "range": (int(m.group(2), 16), int(m.group(3), 16)),
                   "kids": [None, None]}
    for e in edges:
        if e["from"] in tree:
            side = 1 if 'label="right"' in e["attrs"] else 0
            if e["to"].startswith("nil_"):
                side = int(e["to"].rsplit("_", 1)[1])
                tree[e["from"]]["kids"][side] = None
            else:
                tree[e["from"]]["kids"][side] = e["to"]
    want = [(lo, hi) for lo, hi, _ in maps]
    if len(tree) != len(want):
        fail("%s: %d VMAs in the tree, %d maps lines" % (path, len(tree), len(want)))
    has_parent = {k for n in tree.values() for k in n["kids"] if k}
    roots = [n for n in tree if n not in has_parent]
    if len(roots) != 1:
        fail("%s: %d roots" % (path, len(roots)))
        return
    order = []

    def in_order(n):
        if n:
            in_order(tree[n]["kids"][0])
            order.append(tree[n]["range"])
            in_order(tree[n]["kids"][1])
    in_order(roots[0])
    if order != want:
        fail("%s: read in order the tree gives %r, the maps %r" % (path, order, want))
    if tree[roots[0]]["red"]:
        fail("%s: the root is red" % path)
    for n, v in tree.items():
        if v["red"] and any(k and tree[k]["red"] for k in v["kids"]):
            fail("%s: red %s has a red child" % (path, n))
    if black_height(tree, roots[0], path) is None:
        fail("%s: the paths to the NIL leaves hold different numbers of black nodes" % path)


def check_dot(vmsim, render):
    with tempfile.TemporaryDirectory() as tmp:
        a, out = run_scene(vmsim, "--dot", tmp, "a")
        b, _ = run_scene(vmsim, "--dot", tmp, "b")
        names = same_files(a, b)
        maps, walk_pa, tables = parse_scene_output(out)
        maps.pop("cpu1")
        counted = 0
        for pid, lines in maps.items():
            pg = os.path.join(a, "machine-1-task-%d-pgtable.dot" % pid)
            vt = os.path.join(a, "machine-1-task-%d-vma-tree.dot" % pid)
            if not os.path.exists(pg) or not os.path.exists(vt):
                fail("no graphs of task %d: %r" % (pid, names))
                continue
            counted += check_pgtable(pg, walk_pa if pid == min(maps) else None)
            check_vma_tree(vt, lines)
        if counted != tables:
            fail("%d tables drawn, the machine has %d page-table frames" % (counted, tables))
        if render:
            for n in names:
                done = subprocess.run(["dot", "-Tsvg", os.path.join(a, n)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
                if done.returncode or done.stderr or b"<svg" not in done.stdout:
                    fail("dot -Tsvg %s: %s" % (n, done.stderr.decode()))
        print("dot: %d graphs, %d tables" % (len(names), counted))


# ---- svg ----

SVG = "{http://www.w3.org/2000/svg}"


def load_svg(path):
    import xml.etree.ElementTree as ET
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        fail("%s is not well-formed XML: %s" % (path, e))
        return None
    if root.tag != SVG + "svg" or root.get("role") != "img":
        fail("%s: the root is not an svg element with role img" % path)
    kids = list(root)
    if len(kids) < 2 or kids[0].tag != SVG + "title" or kids[1].tag != SVG + "desc" or \
            not (kids[0].text or "").strip() or len(kids[1].text or "") < 40:
        fail("%s does not open with a <title> and a <desc> that says what it shows" % path)
    return root


def tips(root):
    """The <title> of every drawn rectangle."""
    return [t.text or "" for r in root.iter(SVG + "rect") for t in r.findall(SVG + "title")]


def check_svg(vmsim):
    with tempfile.TemporaryDirectory() as tmp:
        a, out = run_scene(vmsim, "--svg", tmp, "a")
        b, _ = run_scene(vmsim, "--svg", tmp, "b")
        names = same_files(a, b)
        maps, walk_pa, tables = parse_scene_output(out)
        cpu1_pages = maps.pop("cpu1")
        roots = {n: load_svg(os.path.join(a, n)) for n in names}
        if any(r is None for r in roots.values()):
            return
        want = {"machine-1-frames.svg", "machine-1-timeline.svg", "machine-1-cpu-0-tlb.svg",
                "machine-1-cpu-1-tlb.svg"}
        for pid in maps:
            want |= {"machine-1-task-%d-address-space.svg" % pid, "machine-1-task-%d-pgtable.svg" % pid}
        if set(names) != want:
            fail("the pictures are %r, not %r" % (sorted(names), sorted(want)))
            return
        drawn_tables = 0
        for pid, lines in maps.items():
            got = [t for t in tips(roots["machine-1-task-%d-address-space.svg" % pid])
                   if re.match(r"[0-9a-f]+-[0-9a-f]+ ", t)]
            if [" ".join(t.split()) for t in got] != [" ".join(l.split()) for _, _, l in reversed(lines)]:
                fail("task %d: the address space shows %r, the maps say %r" % (pid, got, lines))
            pg = tips(roots["machine-1-task-%d-pgtable.svg" % pid])
            drawn_tables += sum(1 for t in pg if re.match(r"(PGD|P4D|PUD|PMD|PTE) at 0x", t))
            if pid == min(maps):
                walk = [t for t in pg if t.endswith("(on the walk)")]
                if len(walk) != 4 or not any(t.startswith("frame 0x%x:" % (walk_pa >> 12)) for t in pg):
                    fail("the walk of 0x40000000 is not highlighted down to frame 0x%x: %r" % (
                        walk_pa >> 12, walk))
        if drawn_tables != tables:
            fail("%d tables drawn, the machine has %d page-table frames" % (drawn_tables, tables))
        tlb = tips(roots["machine-1-cpu-1-tlb.svg"])
        for page in cpu1_pages:
            if not any(t.startswith("L1d ") and ("page 0x%x ->" % page) in t for t in tlb):
                fail("CPU 1's L1d does not show page 0x%x: %r" % (page, tlb))
        desc = list(roots["machine-1-frames.svg"])[1].text
        counts = dict((k, int(v)) for k, v in re.findall(r" ([a-z-]+) (\d+);", desc))
        if counts.get("pgtable") != tables or sum(counts.values()) != 16384:
            fail("physical memory: %r (want pgtable %d, 16384 frames)" % (counts, tables))
        root = os.path.join(tmp, "root")
        shutil.rmtree(root)
        os.mkdir(root)
        calls = subprocess.run([vmsim, "run", "--json", SCENE, root],
                               stdout=subprocess.PIPE).stdout.decode().count('"type":"call"')
        rows = [g for g in roots["machine-1-timeline.svg"].iter(SVG + "g")]
        if len(rows) != calls:
            fail("the timeline has %d calls, the run %d" % (len(rows), calls))
        print("svg: %d pictures" % len(names))


RECLAIM_KINDS = ("reclaim-begin", "reclaim-end", "swap-out", "swap-in", "pageout", "refault")
RECLAIM_FILL = "#F0E442"


def svg_timeline(vmsim, script):
    """The root of the --svg timeline of a run of script, or None (failed)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([vmsim, "run", "--quiet", "--svg", tmp, script],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if done.returncode != 0:
            fail("vmsim run --svg exited %d: %s" % (done.returncode, done.stderr.decode()))
            return None
        return load_svg(os.path.join(tmp, "machine-1-timeline.svg"))


def check_svg_reclaim(vmsim, script):
    import json
    tree = svg_timeline(vmsim, script)
    if tree is None:
        return
    drawn = dict.fromkeys(RECLAIM_KINDS, 0)
    for rect in tree.iter("{http://www.w3.org/2000/svg}rect"):
        title = rect.find("{http://www.w3.org/2000/svg}title")
        if title is None:
            continue
        n, _, kind = title.text.partition(" ")
        if kind in drawn:
            drawn[kind] += int(n)
            if rect.get("fill") != RECLAIM_FILL:
                fail("%s drawn in %s, not reclaim's colour" % (kind, rect.get("fill")))
    raised = dict.fromkeys(RECLAIM_KINDS, 0)
    out = subprocess.run([vmsim, "run", "--json", script], stdout=subprocess.PIPE).stdout.decode()
    for line in out.splitlines():
        if not line.startswith("{"):  # the script's own prints
            continue
        ev = json.loads(line)
        if ev.get("type") == "event" and ev.get("kind") in raised:
            raised[ev["kind"]] += 1
    if drawn != raised:
        fail("the timeline draws %r, the run raised %r" % (drawn, raised))
    if not raised["swap-out"] or not raised["reclaim-begin"]:
        fail("the script raised no reclaim: %r" % raised)
    print("svg-reclaim: %r" % drawn)


SWAP_SERIES = {"swap used": "swap_used", "pswpout": "pswpout", "pswpin": "pswpin"}


def swap_plot(root):
    """The swap plot's values per series, read back from its points through
    the scale its frame's tooltip gives, and the scale."""
    frame = None
    for rect in root.iter(SVG + "rect"):
        t = rect.find(SVG + "title")
        m = re.match(r"swap plot: 0 to (\d+) pages$", t.text or "") if t is not None else None
        if m:
            frame = (float(rect.get("y")), float(rect.get("height")), int(m.group(1)))
    if frame is None:
        return None, None, None
    y0, h, top = frame
    series = {}
    for line in root.iter(SVG + "polyline"):
        t = line.find(SVG + "title")
        name = (t.text or "").split(" ")[0] if t is not None else ""
        name = "swap used" if (t.text or "").startswith("swap used") else name
        if name not in SWAP_SERIES:
            continue
        ys = [float(p.split(",")[1]) for p in line.get("points").split()]
        series[SWAP_SERIES[name]] = [(y0 + h - y) * top / h for y in ys]
    return series, top, h


def check_svg_swap(vmsim, script):
    import json
    root = svg_timeline(vmsim, script)
    if root is None:
        return
    series, top, height = swap_plot(root)
    if series is None or sorted(series) != sorted(SWAP_SERIES.values()):
        fail("no swap plot with its three lines: %r" % series)
        return
    # What the run says after each call: swap-out and swap-in events so far,
    # and the counters of each stats call.
    out = subprocess.run([vmsim, "run", "--json", script], stdout=subprocess.PIPE).stdout.decode()
    outs = ins = 0
    want = []  # per call: {counter: value} that the plot must show
    for line in out.splitlines():
        if not line.startswith("{"):  # the script's own prints
            continue
        ev = json.loads(line)
        if ev.get("type") == "event":
            outs += ev.get("kind") == "swap-out"
            ins += ev.get("kind") == "swap-in"
        elif ev.get("type") == "call":
            w = {"pswpout": outs, "pswpin": ins}
            if ev["name"] == "stats":
                r = ev["results"][0]
                w.update(swap_used=r["swap_used"], pswpin=r["vm"]["pswpin"], pswpout=r["vm"]["pswpout"])
            want.append(w)
    # A point is drawn to a tenth of a pixel: the value it reads back as is
    # within half a tenth of a pixel's worth of pages of the counter.
    slack = 0.05 * top / height + 1e-9
    for name, vals in series.items():
        if len(vals) != len(want):
            fail("%s: %d points, the run made %d calls" % (name, len(vals), len(want)))
            continue
        for i, (v, w) in enumerate(zip(vals, want)):
            if name in w and abs(v - w[name]) > slack:
                fail("%s after call %d: the plot shows %.2f, the run %d" % (name, i + 1, v, w[name]))
    last = want[-1] if want else {}
    if not outs or round(series["pswpout"][-1]) != outs or top < outs:
        fail("the last pswpout point is %r, the run swapped out %d pages" % (series["pswpout"][-1:], outs))
    desc = list(root)[1].text
    if "swap used" not in desc or "pswpout, %d)" % outs not in desc:
        fail("the description does not say what the swap plot shows: %r" % desc)
    print("svg-swap %s: scale %d pages, last point %r, run %r" % (
        os.path.basename(script), top, {k: round(v[-1]) for k, v in series.items()}, last))


def main():
    vmsim, mode = sys.argv[1], sys.argv[2]
    if mode == "dot":
        check_dot(vmsim, "--render" in sys.argv[3:])
    elif mode == "svg":
        check_svg(vmsim)
    elif mode == "svg-reclaim":
        check_svg_reclaim(vmsim, sys.argv[3])
    elif mode == "svg-swap":
        for script in sys.argv[3:]:
            check_svg_swap(vmsim, script)
    else:
        sys.exit("unknown mode " + mode)
    if failures:
        sys.exit(1)
    print("ok: " + mode)


if __name__ == "__main__":
    main()
