-- 05_lazy_page_tables.lua: page tables are made by page faults, on demand.
--
-- A process uses little of its address space, so the kernel builds no
-- table in advance: mmap only records a VMA, and the first fault under a
-- PGD, PUD or PMD entry that is still empty allocates the table below it.
-- One PTE table covers 2 MiB (512 x 4 KiB), one PMD table 1 GiB, one PUD
-- table 512 GiB.
--
-- Measured on Linux 6.18 with VmPTE (/proc/PID/status, 4 kB per table) and
-- the same sequence in C (THP disabled, mappings at 0x7f0000000000): the
-- first store +12 kB (PUD, PMD and PTE tables), a second page in the same
-- 2 MiB +0, a page 2 MiB further +4 kB, a page 1 GiB further +8 kB.
local vmsim = require "vmsim"

-- 4 GiB of RAM: Linux refuses one private writable mapping larger than
-- RAM + swap (heuristic overcommit). Frames are only taken when touched.
local m = vmsim.machine{ram = "4G", cpus = 1}
local t = m:spawn("lazy")

local function tables() return m:stats().pgtable_frames end
local function new_tables(access)
  local before = tables()
  access()
  return tables() - before
end

local GiB, MiB = 1 << 30, 1 << 20
local base = 0x7f0000000000
print(("This new process maps nothing yet: %d page-table frame, its PGD."):format(tables()))
expect_eq(tables(), 1, "page-table frames of a new process")

expect_eq(new_tables(function()
  expect_eq(t:mmap(base, 2 * GiB, "rw", "private|anonymous|fixed"), base, "mmap 2 GiB")
end), 0, "tables made by mmap")

print("First store: PUD, PMD and PTE tables appear under the empty PGD entry.")
expect_eq(new_tables(function() t:store(base, "a") end), 3, "tables made by the first store")
print("A page next to it: every table it needs is there.")
expect_eq(new_tables(function() t:store(base + 4096, "b") end), 0, "tables for the same 2 MiB")
print("2 MiB further: a new PTE table.")
expect_eq(new_tables(function() t:store(base + 2 * MiB, "c") end), 1, "tables for the next 2 MiB")
print("1 GiB further: a new PMD table and a PTE table.")
expect_eq(new_tables(function() t:store(base + GiB, "d") end), 2, "tables for the next 1 GiB")

-- Four pages touched, 2 GiB mapped: 4 data frames and 7 tables.
local minflt = t:rusage()
expect_eq(minflt, 4, "minor faults (one per page touched)")
print(("2 GiB mapped, %d page-table frames in use."):format(tables()))
expect_eq(tables(), 7, "page-table frames (PGD, PUD, 2 PMD, 3 PTE)")

expect(m:check(), "every invariant of the machine holds")
