-- 01_file_txt.lua: the classic memory-mapping program, step by step.
--
--   fd = open("file.txt", O_RDWR); fstat(fd, &sb);
--   addr = mmap(NULL, sb.st_size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
--   close(fd); print addr; addr[0] = 'H'; addr[1] = 'i';
--   msync(addr, size, MS_SYNC); munmap(addr, size); read the file back.
--
-- The fault counts below were measured on Linux 6.18 (ext4) with the same
-- sequence in C, the file's page dropped from the cache first: the first
-- load is 1 major fault (the page is read from the disk), the store 1 minor
-- fault (a clean page of a shared file mapping is mapped read-only, so that
-- the kernel learns when it becomes dirty), msync and munmap none.
local vmsim = require "vmsim"

-- The machine's files live in a host folder of their own (its root).
local root = io.popen("mktemp -d"):read("l")
local host_file = root .. "/file.txt"
local f = assert(io.open(host_file, "w"))
f:write("hello, memory map\n")
f:close()

local m = vmsim.machine{ram = "64M", cpus = 1, root = root}
local t = m:spawn("seed")

local fd = t:open("file.txt", "rdwr")
local size = t:fstat(fd).size
local addr = t:mmap(0, size, "rw", "shared", fd, 0)
t:close(fd) -- the mapping keeps the file open: closing the descriptor is fine
print(("mmap put the file's %d bytes at 0x%x"):format(size, addr))

local min0, maj0 = t:rusage()
print("File content: " .. t:load(addr, size))
local min1, maj1 = t:rusage()
expect_eq({min1 - min0, maj1 - maj0}, {0, 1}, "faults of the first load (minor, major)")

print("Now change the file through memory: no write() call.")
t:store(addr, "Hi")
local min2, maj2 = t:rusage()
expect_eq({min2 - min1, maj2 - maj1}, {1, 0}, "faults of the store (minor, major)")
expect_eq(m:stats().dirty_pages, 1, "dirty page-cache pages before msync")

print("msync writes the dirty page back to the disk (the host file).")
expect_eq(t:msync(addr, size, "sync"), 0, "msync")
expect_eq(m:stats().dirty_pages, 0, "dirty page-cache pages after msync")
expect_eq(t:munmap(addr, size), 0, "munmap")

-- Read the file back twice: with read() inside the machine, and on the host.
local buf = t:mmap(0, 4096, "rw", "private|anonymous")
fd = t:open("file.txt", "rdonly")
expect_eq(t:read(fd, buf, 4096), size, "bytes read()")
expect_eq(t:load(buf, size), "Hillo, memory map\n", "the file through read()")
f = assert(io.open(host_file))
expect_eq(f:read("a"), "Hillo, memory map\n", "the host file after msync")
f:close()

expect(m:check(), "every invariant of the machine holds")
m:destroy()
os.remove(host_file)
os.remove(root)
