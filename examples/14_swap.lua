-- 14_swap.lua: a process may use more memory than the machine has; the
-- kernel moves the pages it has not used lately to swap and brings them
-- back when they are touched again.
--
-- The machine has 256 KiB of RAM (64 frames) and 1 MiB of swap. The process
-- writes a note into its first page, then touches 512 KiB: twice the RAM.
-- When no frame is free the allocator reclaims: it takes the oldest pages of
-- the inactive list, gives each a swap slot, writes it there (pswpout),
-- replaces its PTE by a swap entry and frees the frame. The first page was
-- the oldest, so it left first, for slot 1 (slot 0 is the swap area's
-- header). Touching it again is a major fault: the page is read back from
-- swap (pswpin). Swap-in readahead reads the next slots too once faults
-- come in order (up to 2^page_cluster); this lone fault reads one page.
--
-- Measured on Linux 6.18 with the same proportions (a 16 MiB memory cgroup,
-- 32 MiB touched, a swap file; vmsim-swapcheck, docs/fidelity.md): the
-- touch costs 8,200 minor faults and about 4,400 pages written to swap; a
-- read pass over it all 7,167 minor and 1,025 major faults and 8,197 pages
-- read from swap; every byte comes back. The first page swapped takes slot
-- 1, as /proc/PID/pagemap shows (bit 62 set, offset in bits 5-54).
local vmsim = require "vmsim"

local PG = 4096
local m = vmsim.machine{ram = "256K", swap = "1M", cpus = 1, zero_page = false,
                        min_free_kbytes = 0, swappiness = 60, page_cluster = 3}
local t = m:spawn("big")
local n = 128 -- pages: twice the RAM
local a = t:mmap(0, n * PG, "rw", "private|anonymous")

print("The first page gets a note; it is in a frame, mapped by a present PTE.")
t:store(a, "remember me")
expect_eq(t:walk(a).present, true, "page 0 is in RAM")

print("Touch the other 127 pages: reclaim makes room by sending old pages to swap.")
t:madvise(a + PG, (n - 1) * PG, "populate_write")
local s = m:stats()
print(("  pages written to swap: %d, frames in RAM: %d"):format(s.vm.pswpout, s.frames_total))
expect(s.vm.pswpout >= n - s.frames_total, "at least the pages that cannot fit went to swap")

print("Page 0's PTE now holds a swap entry instead of a frame number.")
local w = t:walk(a)
expect_eq(w.present, false, "page 0 is not in RAM")
expect_eq(w.swap.type, 0, "swap area 0")
expect_eq(w.swap.offset, 1, "slot 1: the first page swapped")
expect_eq(w.swap.exclusive, true, "only this process had it")
print(("  PTE %#018x: swap type %d, slot %d (x86-64 keeps the offset inverted in bits 9-58)")
      :format(w.steps[4].entry, w.swap.type, w.swap.offset))
local pm = t:pagemap(a)[1]
expect_eq(pm >> 62, 1, "pagemap: not present (bit 63), swapped (bit 62)")

print("Read page 0: a major fault reads it back from swap.")
local _, maj0 = t:rusage()
local pswpin0 = m:stats().vm.pswpin
expect_eq(t:load(a, 11), "remember me", "the note came back")
local _, maj1 = t:rusage()
expect_eq(maj1 - maj0, 1, "one major fault")
local read = m:stats().vm.pswpin - pswpin0
print(("  pages read from swap: %d"):format(read))
expect_eq(read, 1, "a lone fault reads no page ahead")
expect_eq(t:walk(a).present, true, "page 0 is in RAM again")

print("/proc/meminfo says where the memory is:")
for line in m:meminfo():gmatch("[^\n]+") do
  if line:match("^MemTotal") or line:match("^MemFree") or line:match("^Swap") then
    print("  " .. line)
  end
end

expect(m:check(), "every invariant of the machine holds")
