-- 10_read_vs_mmap.lua: read() copies the data twice, mmap once.
--
-- read() has the kernel bring the file's blocks from the disk into the
-- page cache (copy 1), then copy them from the page cache into the
-- program's buffer (copy 2): the data sits in memory twice. With mmap the
-- program's page tables point at the page-cache pages themselves: only the
-- disk-to-cache copy is made. The machine counts each kind of copy in
-- m:stats().io, in bytes.
--
-- Measured on Linux 6.18 (ext4), 16 KiB files dropped from the cache, the
-- same sequence in C: read() into a fresh 16 KiB buffer takes 4 minor
-- faults (the kernel's copy touches each buffer page) and no major fault;
-- loading the 4 pages of the mapped file takes 1 major fault and nothing
-- else (the fault reads the file and maps its neighbours).
local vmsim = require "vmsim"

local root = io.popen("mktemp -d"):read("l") -- the machine's host folder
for _, name in ipairs{"a.dat", "b.dat"} do
  local f = assert(io.open(root .. "/" .. name, "w"))
  f:write(("x"):rep(16384))
  f:close()
end
local m = vmsim.machine{ram = "64M", cpus = 1, root = root}
local t = m:spawn("reader")

-- What a few calls cost: copies in bytes, frames taken (page cache, page
-- tables, the rest), faults.
local function cost(calls)
  local s0, min0, maj0 = m:stats(), t:rusage()
  calls()
  local s1, min1, maj1 = m:stats(), t:rusage()
  return {disk_to_cache = s1.io.disk_to_cache - s0.io.disk_to_cache,
          cache_to_user = s1.io.cache_to_user - s0.io.cache_to_user,
          cache = s1.cache_frames - s0.cache_frames,
          tables = s1.pgtable_frames - s0.pgtable_frames,
          other = (s1.frames_used - s0.frames_used) - (s1.cache_frames - s0.cache_frames)
                  - (s1.pgtable_frames - s0.pgtable_frames),
          faults = {min1 - min0, maj1 - maj0}}
end

print("read(): disk -> page cache -> the buffer.")
local buf = t:mmap(0, 16384, "rw", "private|anonymous")
local fd = t:open("a.dat", "rdonly")
local r = cost(function() expect_eq(t:read(fd, buf, 16384), 16384, "bytes read") end)
expect_eq(r.disk_to_cache, 16384, "read(): bytes copied from the disk to the cache")
expect_eq(r.cache_to_user, 16384, "read(): bytes copied from the cache to the buffer")
expect_eq(r.faults, {4, 0}, "read(): faults (minor, major)")
expect_eq({r.cache, r.other}, {4, 4}, "read(): frames of the page cache, of the buffer")

print("mmap: disk -> page cache, and the page tables point there.")
fd = t:open("b.dat", "rdonly")
local map = t:mmap(0, 16384, "read", "private", fd, 0)
local p = cost(function()
  for page = 0, 3 do t:load(map + page * 4096, 1) end
end)
expect_eq(p.disk_to_cache, 16384, "mmap: bytes copied from the disk to the cache")
expect_eq(p.cache_to_user, 0, "mmap: bytes copied from the cache to the program")
expect_eq(p.faults, {0, 1}, "mmap: faults (minor, major)")
expect_eq({p.cache, p.other}, {4, 0}, "mmap: frames of the page cache, of anything else")
print(("The data in memory: read() %d frames, mmap %d."):format(r.cache + r.other, p.cache + p.other))

expect(m:check(), "every invariant of the machine holds")
m:destroy()
os.remove(root .. "/a.dat")
os.remove(root .. "/b.dat")
os.remove(root)
