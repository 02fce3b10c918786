-- known.lua: the run the report's browser test loads (tests/report/check.js
-- knows what each view must then show). Two CPUs; a process maps three
-- private pages at a fixed address, writes two, makes the middle one
-- read-only (the VMA splits in three), maps a shared page, forks a child
-- that runs on CPU 1, writes the first page (copy-on-write) and reads the
-- shared page (mapped twice from then on).
local vmsim = require "vmsim"

local m = vmsim.machine{ram = "64M", cpus = 2}
local parent = m:spawn("parent")
local base = 0x10000000
parent:mmap(base, 3 * 4096, "rw", "private|anonymous|fixed")
parent:store(base, "first page")
parent:store(base + 0x2000, "third page")
parent:mprotect(base + 0x1000, 4096, "r")
local shared = parent:mmap(0, 4096, "rw", "shared|anonymous")
parent:store(shared, "shared")
local child = parent:fork()
child:schedule(1)
child:store(base, "child's own")
child:load(shared, 6)
parent:load(base + 0x2000, 10)
