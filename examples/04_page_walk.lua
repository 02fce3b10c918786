-- 04_page_walk.lua: a 48-bit virtual address is 9 + 9 + 9 + 9 + 12 bits.
--
-- x86-64 with 4-level paging cuts a user address into four 9-bit indices
-- (PGD, PUD, PMD, PTE: 512 entries of 8 bytes fill one 4 KiB table) and a
-- 12-bit offset inside the 4 KiB page. The MMU starts at the table CR3
-- points to (the process's PGD, so the same address means another page in
-- another process), reads one entry per level, and the last entry names
-- the frame. This script picks an address whose indices are 1, 2, 3, 4,
-- lets t:walk read the tables the way the MMU does, and checks every step.
-- (Page tables are not visible from user space, so there is nothing to
-- measure on the host: the indices are the hardware's arithmetic.)
local vmsim = require "vmsim"

local m = vmsim.machine{ram = "64M", cpus = 1}
local t = m:spawn("walker")

local va = (1 << 39) | (2 << 30) | (3 << 21) | (4 << 12) | 0x123
local page = va & ~0xfff
print(("address 0x%x:"):format(va))
local want = {}
for level = 4, 1, -1 do
  want[#want + 1] = (va >> (12 + 9 * (level - 1))) & 511
end
print(("  PGD index %d, PUD index %d, PMD index %d, PTE index %d, offset 0x%x")
      :format(want[1], want[2], want[3], want[4], va & 0xfff))

expect_eq(t:mmap(page, 4096, "rw", "private|anonymous|fixed"), page, "mmap at a fixed address")
t:store(va, "walk me") -- the fault creates the missing tables and the page

local w = t:walk(va)
expect_eq(#w.steps, 4, "levels read")
local names = {"PGD", "PUD", "PMD", "PTE"}
local FRAME = 0x000ffffffffff000 -- bits 12..51 of an entry: the next frame
for i, step in ipairs(w.steps) do
  print(("  %s[%3d] in table 0x%05x = 0x%016x"):format(names[i], step.index, step.table, step.entry))
  expect_eq(step.index, want[i], names[i] .. " index")
  expect(step.entry & 1 == 1, names[i] .. " entry is present")
  local next_table = w.steps[i + 1] and w.steps[i + 1].table
  if next_table then
    expect_eq(step.entry & FRAME, next_table, names[i] .. " entry points to the next table")
  end
end

print("  low bits 0x067: present, writable, user, accessed, dirty; bit 63: no-execute")
expect_eq(w.steps[4].entry & 0xfff, 0x067, "the PTE's flag bits after a store")
expect_eq(w.steps[4].entry >> 63, 1, "the PTE's no-execute bit (the VMA is not PROT_EXEC)")

local frame = w.steps[4].entry & FRAME
expect_eq(w.pa, frame + 0x123, "physical address = PTE's frame + the 12-bit offset")
expect_eq(m:phys_read(w.pa, 7), "walk me", "the bytes at that physical address")
print(("  frame 0x%x + offset 0x123 = physical 0x%x"):format(frame, w.pa))

-- With 5-level paging (57-bit addresses) a P4D level comes between.
local m5 = vmsim.machine{ram = "64M", cpus = 1, levels = 5}
local t5 = m5:spawn("walker")
t5:mmap(page, 4096, "rw", "private|anonymous|fixed")
t5:store(va, "x")
expect_eq(#t5:walk(va).steps, 5, "levels read with 5-level paging")

expect(m:check(), "every invariant of the machine holds")
