-- 09_shared_memory.lua: two processes, one page of memory.
--
-- Part 1: MAP_SHARED|MAP_ANONYMOUS before fork. The mapping is shared,
-- not copied: a write by the child is seen by the parent, through the same
-- frame (an object of the kernel's shmem, not a private anonymous page).
-- Part 2: two unrelated processes map the same file with MAP_SHARED: both
-- PTEs point to the one page-cache page, so that is shared memory too.
--
-- Measured on Linux 6.18, the same sequences in C: the child's store 1
-- minor fault, the parent's load 1 minor fault (the child's store made the
-- page, but the parent's page table has no entry for it until it faults);
-- B's store to the file, its page not cached, 1 major fault; A's load then
-- 1 minor fault, and A reads B's bytes.
local vmsim = require "vmsim"

local root = io.popen("mktemp -d"):read("l") -- the machine's host folder
local f = assert(io.open(root .. "/file.txt", "w"))
f:write(("0"):rep(4096))
f:close()
local m = vmsim.machine{ram = "64M", cpus = 2, root = root}

local function faults(task, access)
  local min0, maj0 = task:rusage()
  access()
  local min1, maj1 = task:rusage()
  return {min1 - min0, maj1 - maj0}
end

print("Part 1: a shared anonymous page across fork.")
local parent = m:spawn("parent")
local shm = parent:mmap(0, 4096, "rw", "shared|anonymous")
local child = parent:fork()
expect_eq(faults(child, function() child:store(shm, "from child") end), {1, 0}, "child's faults")
expect_eq(faults(parent, function()
  expect_eq(parent:load(shm, 10), "from child", "the parent reads the child's bytes")
end), {1, 0}, "parent's faults")
expect_eq(parent:walk(shm).pa, child:walk(shm).pa, "one frame behind both mappings")
child:exit()

print("Part 2: one file mapped MAP_SHARED by two processes.")
local A, B = m:spawn("A"), m:spawn("B")
B:schedule(1)
local function map_file(task)
  local fd = task:open("file.txt", "rdwr")
  local addr = task:mmap(0, 4096, "rw", "shared", fd, 0)
  task:close(fd)
  return addr
end
local a, b = map_file(A), map_file(B)
expect_eq(faults(B, function() B:store(b, "B was here") end), {0, 1}, "B's faults (file read from disk)")
expect_eq(faults(A, function()
  expect_eq(A:load(a, 10), "B was here", "A reads what B wrote")
end), {1, 0}, "A's faults (the page is cached)")
expect_eq(A:walk(a).pa, B:walk(b).pa, "both PTEs point to the page-cache page")

expect(m:check(), "every invariant of the machine holds")
m:destroy()
os.remove(root .. "/file.txt")
os.remove(root)
