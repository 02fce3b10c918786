-- report_gib.lua: the HTML report's scale case of much memory (make bench):
-- 1 GiB of private memory written page by page, half of it handed back.
local vmsim = require "vmsim"

local gib = 1 << 30
local m = vmsim.machine{ram = "2G", cpus = 2}
local t = m:spawn("big")
local a = t:mmap(0, gib, "rw", "private|anonymous")
t:madvise(a, gib, "populate_write")
t:store(a, "first")
t:madvise(a, gib // 2, "dontneed")
