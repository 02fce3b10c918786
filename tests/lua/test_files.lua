-- File calls of a task: open, close, read, write, pread, pwrite, lseek,
-- ftruncate, fsync, fstat, and m:sync; a shared mapping reaching the host
-- file; every open flag name.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")
local P = 4096

H.write_host_file("file.txt", "Hello from the page cache\n")
local m = vmsim.machine{ram = "64M", cpus = 2, root = H.root()}
local t = m:spawn("files")
local buf = t:mmap(0, 4 * P, "rw", "private|anonymous")

-- open: the first descriptor is 3; flags by name or number; mode as octal text
local fd = t:open("file.txt", "rdwr")
expect_eq(fd, 3, "the first descriptor")
local st = t:fstat(fd)
expect_eq(st.size, 26, "fstat size")
expect_eq(st.mode & 0xf000, 0x8000, "a regular file")
expect(st.ino > 0 and st.nlink == 1 and st.blksize == 4096, "fstat fields")
for _, k in ipairs{"dev", "ino", "mode", "nlink", "uid", "gid", "size", "blksize", "blocks"} do
  expect(math.type(st[k]) == "integer", "fstat." .. k)
end
expect_eq({t:open("missing.txt")}, {nil, "ENOENT", 2}, "open of a missing file (rdonly default)")
expect_eq({t:open("../escape.txt", "rdonly")}, {nil, "EXDEV", 18}, "a path leaving the root")
local fd2 = t:open("new.txt", "wronly|creat|trunc", "0600")
expect_eq(fd2, 4, "a created file")
expect_eq(t:fstat(fd2).mode & 0x1ff, 384, "mode 0600 from an octal string")
local fd3 = t:open("new2.txt", vmsim.O_WRONLY | vmsim.O_CREAT, 420)
expect_eq(t:fstat(fd3).mode & 0x1ff, 420, "mode 0644 as a number")
expect_eq({t:open("new.txt", "creat|excl|wronly")}, {nil, "EEXIST", 17}, "O_EXCL")
expect_eq(t:close(fd3), 0, "close")
expect_eq({t:close(fd3)}, {nil, "EBADF", 9}, "close twice")
H.expect_error("mode expected", t.open, t, "x", "creat|wronly", "0999")
H.expect_error("mode out of range", t.open, t, "x", "creat|wronly", -1)
H.expect_error("unknown open flag 'rdwrr'", t.open, t, "x", "rdwrr")
for _, name in ipairs{"rdonly", "wronly", "rdwr", "creat", "excl", "noctty", "trunc", "append",
                      "nonblock", "dsync", "sync", "async", "direct", "largefile",
                      "directory", "nofollow", "noatime", "cloexec", "path", "tmpfile"} do
  expect(vmsim["O_" .. name:upper()] ~= nil, "vmsim.O_" .. name:upper())
end

-- read and write through the task's memory
expect_eq(t:read(fd, buf, 5), 5, "read 5 bytes")
expect_eq(t:load(buf, 5), "Hello", "read put them in memory")
expect_eq(t:lseek(fd, 0, "cur"), 5, "the offset moved")
expect_eq(t:lseek(fd, 0, "end"), 26, "SEEK_END")
expect_eq(t:lseek(fd, 6, vmsim.SEEK_SET), 6, "SEEK_SET by number")
expect_eq(t:lseek(fd, 1), 1, "whence defaults to set")
expect_eq({t:lseek(fd, -5, "set")}, {nil, "EINVAL", 22}, "a negative offset")
H.expect_error("one whence expected", t.lseek, t, fd, 0, "data|hole")
expect_eq(t:lseek(fd, 0, "data"), 0, "SEEK_DATA")
expect_eq(t:lseek(fd, 0, "hole"), 26, "SEEK_HOLE: the end of the file")

expect_eq(t:store(buf + P, "WRITTEN"), true, "bytes to write")
expect_eq(t:write(fd2, buf + P, 7), 7, "write from memory")
expect_eq(t:pwrite(fd2, buf + P, 3, 100), 3, "pwrite at 100")
expect_eq(t:fstat(fd2).size, 103, "the file grew to 103 bytes")
expect_eq(t:pread(fd, buf + 2 * P, 4, 6), 4, "pread at 6")
expect_eq(t:load(buf + 2 * P, 4), "from", "pread's bytes")
expect_eq({t:read(fd2, buf, 1)}, {nil, "EBADF", 9}, "read of a write-only descriptor")
expect_eq(t:lseek(fd, 0), 0, "back to the start")
expect_eq({t:read(fd, 0x10, 4)}, {nil, "EFAULT", 14}, "read into unmapped memory")
expect_eq({t:pread(fd, buf, 1, -1)}, {nil, "EINVAL", 22}, "pread at a negative offset")
expect_eq(t:fsync(fd2), 0, "fsync")
expect_eq({t:fsync(99)}, {nil, "EBADF", 9}, "fsync of a bad descriptor")
expect_eq(H.read_host_file("new.txt"):sub(1, 7), "WRITTEN", "fsync reached the host file")
expect_eq(t:ftruncate(fd2, 7), 0, "ftruncate")
expect_eq(t:fstat(fd2).size, 7, "size after ftruncate")
expect_eq({t:ftruncate(fd2, -1)}, {nil, "EINVAL", 22}, "ftruncate to a negative length")
expect_eq({t:ftruncate(fd, 1 << 62)}, {nil, "EFBIG", 27}, "ftruncate past the largest file")
H.expect_error("fd out of range", t.close, t, 1 << 40)
H.expect_error("number expected, got table", t.read, t, {}, buf, 1)
H.expect_error("number has no integer representation", t.read, t, 3.5, buf, 1)

-- a shared mapping of the file: a store reaches the file at write-back
local map = t:mmap(0, 26, "rw", "shared", fd, 0)
expect_eq(t:load(map, 5), "Hello", "the file through the mapping")
local minflt, majflt = t:rusage()
expect_eq(majflt, 0, "the page was cached by read(): no major fault")
t:store(map, "Hi")
expect_eq(m:stats().dirty_pages > 0, true, "the page is dirty")
expect_eq(m:sync(), 0, "sync")
expect_eq(m:stats().dirty_pages, 0, "sync wrote it back")
expect_eq(H.read_host_file("file.txt"), "Hillo from the page cache\n", "the host file")
t:store(map + 2, "!!")
expect_eq(t:msync(map, P, "sync"), 0, "msync")
expect_eq(H.read_host_file("file.txt"):sub(1, 4), "Hi!!", "msync wrote the page")
t:store(map + 4, "?")
m:destroy() -- a dirty page is written back when the machine ends
expect_eq(H.read_host_file("file.txt"):sub(1, 5), "Hi!!?", "destroy wrote the page back")
