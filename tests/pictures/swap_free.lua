-- swap_free.lua: swap used falls while pswpout stays: the pictures test of
-- --svg's swap plot (check_pictures.py svg-swap) tells the lines apart by it.
-- Twice the RAM is written, half of it unmapped (its swap slots freed), and
-- the rest read back, from swap where it is no longer in the swap cache.
local vmsim = require "vmsim"

local PG = 4096
local m = vmsim.machine{ram = "256K", swap = "1M", cpus = 1, zero_page = false,
                        min_free_kbytes = 0, swappiness = 60, page_cluster = 0}
local t = m:spawn("half")
local n = 128
local a = t:mmap(0, n * PG, "rw", "private|anonymous")
t:madvise(a, n * PG, "populate_write")
local full = m:stats()
expect(full.swap_used > 0, "pages went to swap")
t:munmap(a, n // 2 * PG)
local half = m:stats()
expect(half.swap_used < full.swap_used, "unmapping frees swap slots")
expect_eq(half.vm.pswpout, full.vm.pswpout, "and swaps nothing more out")
for i = n // 2, n - 1 do t:load(a + i * PG, 1) end
expect(m:stats().vm.pswpin > 0, "a page read back from swap")
expect(m:check(), "every invariant of the machine holds")
