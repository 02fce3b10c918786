-- 03_private_vs_shared.lua: MAP_PRIVATE copies on write, MAP_SHARED
-- writes into the file.
--
-- The same two-page file is mapped twice in one process. A store through
-- the private mapping gets a copy of the page of its own (copy-on-write):
-- the file never sees it. A store through the shared mapping changes the
-- page-cache page itself: read() sees it at once, and so does the private
-- mapping on every page it has not copied yet.
--
-- Measured on Linux 6.18 (ext4), the same sequence in C, file pages
-- dropped from the cache first: the private load is 1 major fault, the
-- private store 1 minor fault (the copy), the two shared stores 1 minor
-- fault each; afterwards pread gives "S", the private mapping "P" on page 0
-- and "S" on page 1, and after msync the disk holds "SAAA".
local vmsim = require "vmsim"

local root = io.popen("mktemp -d"):read("l") -- the machine's host folder
local f = assert(io.open(root .. "/file.txt", "w"))
f:write("AAAA" .. ("\0"):rep(8192 - 4))
f:close()

local m = vmsim.machine{ram = "64M", cpus = 1, root = root}
local t = m:spawn("a")
local fd = t:open("file.txt", "rdwr")
local priv = t:mmap(0, 8192, "rw", "private", fd, 0)
local shared = t:mmap(0, 8192, "rw", "shared", fd, 0)

local function faults(access)
  local min0, maj0 = t:rusage()
  access()
  local min1, maj1 = t:rusage()
  return {min1 - min0, maj1 - maj0}
end

expect_eq(faults(function() t:load(priv, 1) end), {0, 1}, "faults of the private load")
local cache_page = t:walk(priv).pa
print("The private mapping reads the page-cache page itself until it writes.")
expect_eq(faults(function() t:store(priv, "P") end), {1, 0}, "faults of the private store")
expect(t:walk(priv).pa ~= cache_page, "the private store moved the page to a copy")
expect_eq(m:stats().cow_faults, 1, "copy-on-write faults")

print("The shared mapping writes into the page cache: the file changes.")
expect_eq(faults(function() t:store(shared, "S"); t:store(shared + 4096, "S") end),
          {2, 0}, "faults of the two shared stores")
expect_eq(t:walk(shared).pa, cache_page, "the shared mapping maps the page-cache page")

local buf = t:mmap(0, 4096, "rw", "private|anonymous")
t:pread(fd, buf, 4, 0)
expect_eq(t:load(buf, 4), "SAAA", "the file through pread()")
expect_eq(t:load(priv, 1), "P", "private page 0 (its own copy)")
expect_eq(t:load(priv + 4096, 1), "S", "private page 1 (not copied: still the file's page)")

t:msync(shared, 8192, "sync")
f = assert(io.open(root .. "/file.txt"))
expect_eq(f:read(4), "SAAA", "the host file after msync")
f:close()

expect(m:check(), "every invariant of the machine holds")
m:destroy()
os.remove(root .. "/file.txt")
os.remove(root)
