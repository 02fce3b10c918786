-- 12_msync.lua: who sees a store to a shared file mapping, and when.
--
-- A store through a MAP_SHARED mapping changes the page-cache page. Every
-- reader goes through that same page: read() and other mappings see the
-- store at once, and write() is seen by the mapping at once. Only the disk
-- lags: the page stays dirty until msync (or fsync, or the kernel's
-- write-back) writes it. msync also write-protects the page again, so the
-- next store faults and marks it dirty anew. MAP_PRIVATE stores never reach
-- the file, msync or not.
--
-- Measured on Linux 6.18 (ext4), the same sequence in C, the file's page
-- dropped from the cache: the first store 1 major fault; smaps shows the
-- page dirty (Pss_Dirty 4 kB), clean after msync (0 kB); the store after
-- msync 1 minor fault; pread sees the store before msync; a private store
-- followed by msync leaves the file as it was.
local vmsim = require "vmsim"

local root = io.popen("mktemp -d"):read("l") -- the machine's host folder
local host_file = root .. "/file.txt"
local f = assert(io.open(host_file, "w"))
f:write("old data" .. ("\0"):rep(4096 - 8))
f:close()
local function on_disk()
  local h = assert(io.open(host_file))
  local text = h:read(8)
  h:close()
  return text
end

local m = vmsim.machine{ram = "64M", cpus = 1, root = root}
local t = m:spawn("writer")
local fd = t:open("file.txt", "rdwr")
local shared = t:mmap(0, 4096, "rw", "shared", fd, 0)
local private = t:mmap(0, 4096, "rw", "private", fd, 0)
local buf = t:mmap(0, 4096, "rw", "private|anonymous")
local function faults(access)
  local min0, maj0 = t:rusage()
  access()
  local min1, maj1 = t:rusage()
  return {min1 - min0, maj1 - maj0}
end

expect_eq(faults(function() t:store(shared, "NEW") end), {0, 1}, "faults of the first store")
t:pread(fd, buf, 8, 0)
expect_eq(t:load(buf, 8), "NEW data", "read() sees the store at once")
expect_eq(m:stats().dirty_pages, 1, "dirty pages before msync")
expect_eq(on_disk(), "old data", "the disk before msync")

print("msync: the dirty page goes to the disk.")
expect_eq(t:msync(shared, 4096, "sync"), 0, "msync")
expect_eq(m:stats().dirty_pages, 0, "dirty pages after msync")
expect_eq(on_disk(), "NEW data", "the disk after msync")
expect_eq(faults(function() t:store(shared, "N") end), {1, 0}, "faults of a store after msync")
expect_eq(m:stats().dirty_pages, 1, "dirty again")

print("write() into the file: the mapping sees it at once.")
t:store(buf, "WRITTEN!")
t:pwrite(fd, buf, 8, 0)
expect_eq(t:load(shared, 8), "WRITTEN!", "the mapping after pwrite()")

print("A private mapping's store stays private, msync or not.")
t:store(private, "private!")
expect_eq(t:msync(private, 4096, "sync"), 0, "msync of the private mapping")
t:msync(shared, 4096, "sync")
expect_eq(t:load(shared, 8), "WRITTEN!", "the file through the shared mapping")
expect_eq(on_disk(), "WRITTEN!", "the disk")

expect(m:check(), "every invariant of the machine holds")
m:destroy()
os.remove(host_file)
os.remove(root)
