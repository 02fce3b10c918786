-- The scene the picture tests draw (tests/pictures/check_pictures.py): a
-- machine with two CPUs; a process with a file mapped shared, anonymous
-- memory split by mprotect into five VMAs, a mapping at 1 GiB in a page
-- table of its own, shared anonymous memory; a forked child that copies a
-- page; a thread on CPU 1. At the end it prints, for the checker, each
-- address space's maps after "maps PID", the walk of 1 GiB, the pages the
-- thread loaded on CPU 1 and the machine's page-table count.
-- usage: vmsim run [PICTURE OPTIONS] scene.lua ROOT (an empty folder)
local root = assert(arg[1], "usage: scene.lua ROOT")
local f = assert(io.open(root .. "/file.txt", "w"))
f:write(string.rep("file page\n", 800)) -- two pages
f:close()

local m = vmsim.machine{ram = "64M", cpus = 2, root = root}
local t = m:spawn("scene")
local fd = t:open("file.txt", "rdwr")
local file = t:mmap(0, 8192, "rw", "shared", fd, 0)
t:close(fd)
expect_eq(t:load(file, 4), "file", "the file through the mapping")
t:store(file + 4096, "F")

local a = t:mmap(0, 64 * 4096, "rw", "private|anonymous")
for i = 0, 63, 9 do t:store(a + i * 4096, "x") end
t:mprotect(a + 8 * 4096, 4096, "r")
t:mprotect(a + 20 * 4096, 8192, "r")
local b = t:mmap(0x40000000, 4096, "rw", "private|anonymous|fixed")
t:store(b, "y")
local s = t:mmap(0, 8192, "rw", "shared|anonymous")
t:store(s, "z")

local c = t:fork()
c:store(a, "c") -- copy-on-write: the child's own frame
local th = t:thread()
th:schedule(1)
th:load(a, 1)
th:load(file, 1)

for _, task in ipairs{t, c} do
  print("maps " .. task:pid())
  io.write(task:maps())
  print("")
end
print(string.format("walk 0x40000000 0x%x", t:walk(0x40000000).pa))
print(string.format("cpu1 0x%x 0x%x", a >> 12, file >> 12)) -- pages in CPU 1's TLB
print("pgtable_frames " .. m:stats().pgtable_frames)
expect(m:check(), "every invariant holds")
