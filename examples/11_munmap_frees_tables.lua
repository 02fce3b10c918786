-- 11_munmap_frees_tables.lua: munmap frees the page tables no VMA needs.
--
-- munmap clears the PTEs of the range, flushes the TLBs, frees the pages,
-- and then frees each page table that no remaining VMA reaches into: a
-- PTE table whose 2 MiB hold no mapping any more, a PMD table whose 1 GiB
-- is empty, and so on up. A table that still serves a VMA stays, even if
-- all its entries are empty.
--
-- Measured on Linux 6.18 with VmPTE (/proc/PID/status, 4 kB per table) and
-- the same sequence in C (THP disabled, at 0x7f0000000000): touching two
-- pages 2 MiB apart +16 kB; munmap of the first page +0 kB; munmap of the
-- second 2 MiB -4 kB; munmap of the rest -12 kB.
local vmsim = require "vmsim"

local m = vmsim.machine{ram = "64M", cpus = 1}
local t = m:spawn("unmapper")
local function tables() return m:stats().pgtable_frames end
local function change(call)
  local before = tables()
  call()
  return tables() - before
end

local MiB = 1 << 20
local base = 0x7f0000000000
t:mmap(base, 4 * MiB, "rw", "private|anonymous|fixed")
expect_eq(change(function()
  t:store(base, "a")
  t:store(base + 2 * MiB, "b")
end), 4, "tables made by two stores 2 MiB apart (PUD, PMD, 2 PTE)")

print("munmap of one page: its PTE table still serves the rest of the VMA.")
expect_eq(change(function() t:munmap(base, 4096) end), 0, "tables freed by munmap of one page")
expect_eq(t:walk(base + 4096).present, false, "the next page was never touched")

print("munmap of the second 2 MiB: nothing needs its PTE table now.")
local used = m:stats().frames_used
expect_eq(change(function() t:munmap(base + 2 * MiB, 2 * MiB) end), -1,
          "tables freed by munmap of the second 2 MiB")
expect_eq(used - m:stats().frames_used, 2, "frames freed (the page and its PTE table)")

print("munmap of the rest: the PTE, PMD and PUD tables go; the PGD stays.")
expect_eq(change(function() t:munmap(base, 2 * MiB) end), -3, "tables freed by munmap of the rest")
expect_eq(tables(), 1, "page-table frames left (the PGD)")
expect_eq(t:maps(), "", "no VMA left")

expect(m:check(), "every invariant of the machine holds")
