-- The machine handle: every config field, the config's errors, stats, check,
-- phys_read, sync, on_event, destroy, __close and __gc, and handles used
-- after their machine is gone.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")

-- Every field of struct vms_config, by its C name, with a valid value.
local every_field = {
  phys_bytes = "64M", ncpus = 2, swap_bytes = 0, pgtable_levels = 5, pcid = true,
  dtlb = {entries = 64, ways = 4}, itlb = {entries = 128, ways = 8},
  stlb = {entries = 1536, ways = 12}, tlb_flush_ceiling = 33, mmap_min_addr = "4K",
  max_map_count = 65530, aslr_seed = 0, fault_around_bytes = "64K", readahead_kb = 128,
  max_sectors_kb = 1280, large_folios = false, root = H.root(), privileged = 1,
  memlock_rlimit = "unlimited", pku = true, zero_page = 0, overcommit_memory = 2,
  overcommit_ratio = 50, overcommit_kbytes = 0, mem_total = "1G",
  admin_reserve_kbytes = "default", user_reserve_kbytes = 1024,
}
local m = vmsim.machine(every_field)
expect_eq(tostring(m), "vmsim.machine 1 (2 CPUs, 64 MiB)", "tostring of a machine")
local s = m:stats()
expect_eq(s.ncpus, 2, "ncpus from the config")
expect_eq(s.frames_total, 64 * 1024 * 1024 // 4096, "frames of a 64M machine")
local t = m:spawn("levels")
-- 5-level paging: a walk has five steps
local w = t:walk(0x1000)
expect_eq(w.levels, 5, "walk levels with pgtable_levels = 5")
expect_eq(#w.steps, 1, "a walk of an empty mm reads the top table only")
expect_eq(w.steps[1].level, 5, "the top table is level 5")
expect_eq(w.present, false, "nothing mapped yet")
m:destroy()

-- Aliases and the sizes' spellings.
local sizes = {["64M"] = 64 << 20, ["64MiB"] = 64 << 20, ["0x4000000"] = 64 << 20,
               ["65536K"] = 64 << 20, [" 64M "] = 64 << 20, ["1G"] = 1 << 30}
for text, bytes in pairs(sizes) do
  local mm = vmsim.machine{ram = text, cpus = 1}
  expect_eq(mm:stats().frames_total, bytes // 4096, "frames of ram = '" .. text .. "'")
  mm:destroy()
end
local mm = vmsim.machine{ram = 32.0 * 1024 * 1024, cpus = 3.0}
expect_eq(mm:stats().ncpus, 3, "cpus alias")
mm:destroy()

-- Bad configs: each a Lua error naming the field.
H.expect_error("unknown config field 'ramm'", vmsim.machine, {ramm = 1})
H.expect_error("field 'ram': size too large", vmsim.machine, {ram = "99999999999999999999G"})
H.expect_error("field 'ram': size too large", vmsim.machine, {ram = "17E"})
H.expect_error("field 'ram': negative size", vmsim.machine, {ram = -1})
H.expect_error("field 'ram': negative size", vmsim.machine, {ram = "-64M"})
H.expect_error("field 'ram': not a size", vmsim.machine, {ram = "64Q"})
H.expect_error("field 'ram': not a size", vmsim.machine, {ram = "lots"})
H.expect_error("field 'ram': size expected", vmsim.machine, {ram = true})
H.expect_error("field 'ram': size expected", vmsim.machine, {ram = 1.5})
H.expect_error("field 'cpus': too large", vmsim.machine, {cpus = 1 << 40})
H.expect_error("field 'pcid': true, false, 0 or 1 expected", vmsim.machine, {pcid = 2})
H.expect_error("field 'pcid': true, false, 0 or 1 expected", vmsim.machine, {pcid = "yes"})
H.expect_error("field 'levels': integer expected", vmsim.machine, {levels = "4"})
H.expect_error("field 'dtlb': table", vmsim.machine, {dtlb = 64})
H.expect_error("field 'dtlb.ways'", vmsim.machine, {dtlb = {entries = 64, ways = -4}})
H.expect_error("field 'root': string expected", vmsim.machine, {root = 1})
H.expect_error("config keys must be field names", vmsim.machine, {1})
H.expect_error("table expected", vmsim.machine, "64M")
-- Values the library refuses: its own message names the field.
H.expect_error("ncpus = 0", vmsim.machine, {cpus = 0})
H.expect_error("ncpus = 65", vmsim.machine, {cpus = 65})
H.expect_error("pgtable_levels = 3", vmsim.machine, {levels = 3})
H.expect_error("dtlb", vmsim.machine, {dtlb = {entries = 64, ways = 5}})
-- A root that does not exist: the host's errno.
local none, ename, errno = vmsim.machine{root = H.root() .. "/no-such-folder"}
expect_eq({none, ename, errno}, {nil, "ENOENT", 2}, "a missing root")

-- stats: every counter, io and per-CPU tables keyed by CPU number
m = vmsim.machine{ram = "64M", cpus = 2, root = H.root()}
s = m:stats()
for _, k in ipairs{"tlb_hits", "tlb_misses", "page_walks", "walk_refs", "shootdowns", "ipis",
                   "flushes_full", "flushes_single", "context_switches", "minor_faults",
                   "major_faults", "cow_faults", "frames_total", "frames_used",
                   "pgtable_frames", "cache_frames", "dirty_pages", "ncpus"} do
  expect(math.type(s[k]) == "integer", "stats." .. k .. " is an integer")
end
for _, k in ipairs{"disk_to_cache", "cache_to_user", "user_to_cache", "cache_to_disk",
                   "disk_reads", "disk_writes"} do
  expect(math.type(s.io[k]) == "integer", "stats.io." .. k .. " is an integer")
end
expect(s.cpu[0] and s.cpu[1] and not s.cpu[2], "stats.cpu has CPUs 0 and 1")
for _, k in ipairs{"dtlb_hits", "dtlb_misses", "itlb_hits", "itlb_misses", "stlb_hits",
                   "stlb_misses", "page_walks", "walk_refs", "flushes_full", "flushes_single",
                   "shootdowns", "ipis_sent", "ipis_received", "context_switches",
                   "lazy_skips"} do
  expect(math.type(s.cpu[1][k]) == "integer", "stats.cpu[1]." .. k .. " is an integer")
end

-- check: true when every invariant holds
expect_eq(m:check(), true, "check of a new machine")
expect_eq(select("#", m:check()), 1, "check returns one value when it holds")

-- phys_read: the bytes of a frame, and EFAULT past the RAM
t = m:spawn("p")
local a = t:mmap(0, 4096, "rw", "private|anonymous")
t:store(a + 100, "phys!")
local pa = t:walk(a).pa
expect_eq(m:phys_read(pa + 100, 5), "phys!", "phys_read of the frame")
expect_eq({m:phys_read(64 << 20, 1)}, {nil, "EFAULT", 14}, "phys_read past the RAM")
expect_eq({m:phys_read((64 << 20) - 1, 2)}, {nil, "EFAULT", 14}, "phys_read across the end")
expect_eq(m:phys_read((64 << 20) - 1, 1):len(), 1, "phys_read of the last byte")
H.expect_error("negative size", m.phys_read, m, 0, -1)

-- sync: 0
expect_eq(m:sync(), 0, "sync")

-- on_event: the handler sees every event as a table
local kinds = {}
m:on_event(function(ev)
  kinds[ev.kind] = (kinds[ev.kind] or 0) + 1
  expect(math.type(ev.cpu) == "integer" and math.type(ev.pa) == "integer", "event fields")
end)
local b = t:mmap(0, 4096, "rw", "private|anonymous")
t:store(b, "x")
expect_eq(kinds.fault, 1, "one fault event for a first store")
expect((kinds["tlb-miss"] or 0) >= 1, "a tlb-miss event")
expect((kinds["walk"] or 0) >= 1, "walk events")
-- an error in the handler is raised by the call that caused the event
m:on_event(function(ev) error("handler says no") end)
local b2 = t:mmap(0, 4096, "rw", "private|anonymous")
H.expect_error("handler says no", t.store, t, b2, "y") -- a first store: a fault event
expect_eq(t:load(b2, 1), "y", "the store itself was done")
m:on_event(nil)
t:store(b + 8, "z") -- no handler now
-- the machine cannot be used from its own handler
local c = t:mmap(0, 4096, "rw", "private|anonymous")
m:on_event(function(ev) m:stats() end)
H.expect_error("cannot be used from its own event handler", t.store, t, c, "q")
m:on_event(nil)
expect_eq(m:check(), true, "check after the handlers' errors")
H.expect_error("function expected", m.on_event, m, 42)

-- destroy: the handles then raise errors, never crash
m:destroy()
m:destroy() -- twice is harmless
expect_eq(tostring(m), "vmsim.machine (destroyed)", "tostring after destroy")
H.expect_error("machine used after its machine was destroyed", m.stats, m)
H.expect_error("machine used after its machine was destroyed", m.spawn, m, "x")
H.expect_error("machine used after its machine was destroyed", m.check, m)
H.expect_error("machine used after its machine was destroyed", m.sync, m)
H.expect_error("machine used after its machine was destroyed", m.phys_read, m, 0, 1)
H.expect_error("machine used after its machine was destroyed", m.on_event, m, nil)
H.expect_error("task used after its machine was destroyed", t.store, t, a, "x")
H.expect_error("task used after its machine was destroyed", t.pid, t)
H.expect_error("task used after its machine was destroyed", t.maps, t)
expect(tostring(t):find("machine destroyed"), "tostring of a task after destroy")

-- the metatables are hidden: a script cannot run a finalizer by hand
expect_eq(getmetatable(m), "vmsim.machine", "getmetatable of a machine")
expect_eq(getmetatable(t), "vmsim.task", "getmetatable of a task")
-- and one run through the debug library leaves a dead handle, not a crash
do
  local mf = vmsim.machine{ram = "16M", cpus = 1}
  local tf = mf:spawn("finalized")
  debug.getmetatable(tf).__gc(tf)
  H.expect_error("task used after it was finalized", tf.pid, tf)
  debug.getmetatable(mf).__gc(mf)
  H.expect_error("machine used after it was finalized", mf.stats, mf)
  mf:destroy()
  expect_eq(tostring(mf), "vmsim.machine (destroyed)", "tostring after the finalizer")
end

-- wrong receivers
H.expect_error("vmsim.machine expected", m.stats, t)
H.expect_error("vmsim.machine expected", m.stats, {})
H.expect_error("vmsim.task expected", t.pid, m)

-- __close: the machine ends with its block
local closed
do
  local mc <close> = vmsim.machine{ram = "16M", cpus = 1}
  closed = mc
  expect_eq(mc:check(), true, "a machine in a <close> variable")
end
H.expect_error("used after its machine was destroyed", closed.stats, closed)

-- __gc: a machine no handle reaches is destroyed, and a task keeps its
-- machine alive
local weak = setmetatable({}, {__mode = "v"})
do
  local task = vmsim.machine{ram = "16M", cpus = 1}:spawn("orphan")
  weak.task = task
  collectgarbage()
  collectgarbage()
  expect_eq(task:pid() > 0, true, "a task's machine lives while the task handle does")
  local x = task:mmap(0, 4096, "rw", "private|anonymous")
  expect_eq(task:store(x, "alive"), true, "the task still works")
end
collectgarbage()
collectgarbage()
expect_eq(weak.task, nil, "the task handle was collected")
