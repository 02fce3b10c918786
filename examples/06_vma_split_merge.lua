-- 06_vma_split_merge.lua: VMAs split when part of them changes, and merge
-- again when neighbours become alike.
--
-- A VMA (struct vm_area_struct) is one range of addresses with one set of
-- properties: protection, flags, file and offset. mprotect on the middle
-- page of a 3-page VMA must give that page other properties, so the VMA is
-- split in three; mprotect back makes the three alike again and they merge
-- into one. The kernel keeps the VMAs in a tree ordered by address (a
-- red-black tree before 6.1, a maple tree since) to find the VMA of a
-- faulting address quickly.
--
-- Measured on Linux 6.18, the same sequence in C, with the region touched
-- and untouched: /proc/PID/maps gains 2 lines after the first mprotect and
-- is back to its count after the second.
--
-- The binding shows the list (t:maps()) but not the tree: no call exposes
-- the tree's shape. m:check() verifies it (order, no overlap, the gaps each
-- node records for the free-range search) after every step here.
local vmsim = require "vmsim"

local m = vmsim.machine{ram = "64M", cpus = 1}
local t = m:spawn("vmas")

local function vma_count()
  local n = 0
  for _ in t:maps():gmatch("[^\n]+") do n = n + 1 end
  return n
end

local a = t:mmap(0, 3 * 4096, "rw", "private|anonymous")
t:store(a, "first page")
print("One mmap, one VMA:\n" .. t:maps())
expect_eq(vma_count(), 1, "VMAs after mmap")

expect_eq(t:mprotect(a + 4096, 4096, "read"), 0, "mprotect the middle page read-only")
print("mprotect of the middle page split it in three:\n" .. t:maps())
expect_eq(vma_count(), 3, "VMAs after mprotect(PROT_READ)")
expect(t:maps():find(("%x%%-%x r%%-%%-p"):format(a + 4096, a + 8192)), "the middle VMA is r--p")
expect(m:check(), "the VMA tree and every other invariant hold after the split")

print("A store into the read-only middle page is refused:")
local ok, sig, code, addr = t:store(a + 4096, "x")
expect_eq({ok, sig, code, addr}, {nil, "SIGSEGV", "SEGV_ACCERR", a + 4096}, "the store's signal")

expect_eq(t:mprotect(a + 4096, 4096, "rw"), 0, "mprotect it back read-write")
print("Alike again, the three merged into one:\n" .. t:maps())
expect_eq(vma_count(), 1, "VMAs after mprotect back")
expect(m:check(), "the VMA tree and every other invariant hold after the merge")

print("munmap of the middle page splits it for good (a hole cannot merge):")
t:munmap(a + 4096, 4096)
expect_eq(vma_count(), 2, "VMAs after munmap of the middle page")
