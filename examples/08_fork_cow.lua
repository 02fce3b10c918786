-- 08_fork_cow.lua: fork copies no memory; copy-on-write copies a page the
-- first time either process writes it.
--
-- fork gives the child a copy of the parent's VMAs and page tables, with
-- every private writable page mapped read-only in both. A read costs
-- nothing; the first write faults and the writer gets its own copy. When
-- only one process is left using the page, its write fault reuses the page
-- instead of copying it.
--
-- Measured on Linux 6.18, the same sequence in C: the child's load takes
-- no fault, its store 1 minor fault; the parent still reads "parent"; the
-- parent's store after the child exited takes 1 minor fault (no copy).
local vmsim = require "vmsim"

local m = vmsim.machine{ram = "64M", cpus = 1}
local parent = m:spawn("parent")
local a = parent:mmap(0, 4096, "rw", "private|anonymous")
parent:store(a, "parent\0")
local frame = parent:walk(a).pa

local child = parent:fork()
print(("fork: pid %d has a child, pid %d"):format(parent:pid(), child:pid()))
expect_eq(child:walk(a).pa, frame, "the child maps the parent's frame")
expect_eq(parent:walk(a).steps[4].entry & 2, 0, "the parent's PTE is read-only now")

local function faults(task, access)
  local min0 = task:rusage()
  access()
  return task:rusage() - min0
end

print("The child reads: the shared frame, no fault.")
expect_eq(faults(child, function() expect_eq(child:load(a, 6), "parent", "the child reads") end),
          0, "child's faults for the load")

print("The child writes: a fault, a copy, the child's PTE moves to the copy.")
expect_eq(faults(child, function() child:store(a, "child\0") end), 1, "child's faults for the store")
expect(child:walk(a).pa ~= frame, "the child has a frame of its own")
expect_eq(parent:walk(a).pa, frame, "the parent keeps the original")
expect_eq(parent:load(a, 6), "parent", "the parent still reads its bytes")
expect_eq(m:stats().cow_faults, 1, "copy-on-write faults")

child:exit()
print("Child gone: the parent's write fault finds the page is its alone and reuses it.")
local used = m:stats().frames_used
expect_eq(faults(parent, function() parent:store(a, "P") end), 1, "parent's faults for the store")
expect_eq(parent:walk(a).pa, frame, "no copy: the same frame, writable again")
expect_eq(m:stats().frames_used, used, "frames in use (nothing allocated)")

expect(m:check(), "every invariant of the machine holds")
