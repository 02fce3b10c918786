-- 02_file_vs_anon.lua: a file mapping and an anonymous mapping side by side.
--
-- mmap's only job is to create a VMA; the memory behind it comes on the
-- first access, from a page fault. For a file mapping the fault finds the
-- file's page in the page cache (reading it from the disk on a miss); for
-- an anonymous mapping it takes a fresh frame and fills it with zeros.
--
-- Measured on Linux 6.18 (ext4), the same sequence in C with the file's
-- pages dropped from the cache: file page 0 costs 1 major fault and page 1
-- none (the fault mapped its neighbours too: "fault-around"); each
-- anonymous page costs 1 minor fault. /proc/PID/maps names the file (with
-- its device and inode) and shows "00:00 0" for the anonymous one.
local vmsim = require "vmsim"

local root = io.popen("mktemp -d"):read("l") -- the machine's host folder
local f = assert(io.open(root .. "/file.txt", "w"))
f:write("file bytes" .. ("\0"):rep(8192 - 10)) -- two pages
f:close()

local m = vmsim.machine{ram = "64M", cpus = 1, root = root}
local t = m:spawn("a")
local fd = t:open("file.txt", "rdwr")
local file = t:mmap(0, 8192, "rw", "private", fd, 0)
local anon = t:mmap(0, 8192, "rw", "private|anonymous")
t:close(fd)

local maps = t:maps()
print("The two VMAs, as /proc/PID/maps shows them:\n" .. maps)
expect(maps:find(("%x%%-%%x+ rw%%-p 00000000 08:01 1001 +/file.txt"):format(file)),
       "the file VMA names device, inode and path")
expect(maps:find(("%x%%-%%x+ rw%%-p 00000000 00:00 0 *\n"):format(anon)),
       "the anonymous VMA has no device, inode or path")

local function faults(access)
  local min0, maj0 = t:rusage()
  access()
  local min1, maj1 = t:rusage()
  return {min1 - min0, maj1 - maj0}
end

print("File page 0: a page-cache miss, read from the disk (a major fault).")
expect_eq(faults(function() expect_eq(t:load(file, 10), "file bytes", "file page 0") end),
          {0, 1}, "faults of file page 0 (minor, major)")
expect_eq(m:stats().io.disk_to_cache, 8192, "bytes read from the disk")
expect_eq(faults(function() t:load(file + 4096, 1) end), {0, 0}, "faults of file page 1")

print("Anonymous pages: no disk at all, a zeroed frame per page (minor faults).")
local cache_before = m:stats().cache_frames
expect_eq(faults(function() t:store(anon, "anon bytes") end), {1, 0}, "faults of anon page 0")
expect_eq(faults(function() t:load(anon + 4096, 1) end), {1, 0}, "faults of anon page 1")
expect_eq(t:load(anon + 4096, 4), "\0\0\0\0", "a fresh anonymous page reads zeros")
expect_eq(m:stats().cache_frames, cache_before, "page-cache frames (anonymous pages are not cached)")
expect_eq(m:stats().io.disk_to_cache, 8192, "bytes read from the disk (no more)")

expect(m:check(), "every invariant of the machine holds")
m:destroy()
os.remove(root .. "/file.txt")
os.remove(root)
