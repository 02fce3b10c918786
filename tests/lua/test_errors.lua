-- Bad input: unknown names, wrong types, sizes that overflow, negative
-- sizes. Each is a Lua error naming the argument, never a crash.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")
local P = 4096

local m = vmsim.machine{ram = "16M", cpus = 1}
local t = m:spawn("errors")
local a = t:mmap(0, P, "rw", "private|anonymous")

-- protections
H.expect_error("unknown protection letter 'z' in 'rwz'", t.mmap, t, 0, P, "rwz", "private|anon")
H.expect_error("unknown protection 'reed'", t.mmap, t, 0, P, "reed", "private|anon")
H.expect_error("unknown protection 'rwxx'", t.mmap, t, 0, P, "rwxx", "private|anon")
H.expect_error("empty protection name", t.mprotect, t, a, P, "read||write")
H.expect_error("protection expected (a name or a number), got table", t.mprotect, t, a, P, {})
H.expect_error("protection expected (a name or a number), got no value", t.mprotect, t, a, P)
-- mmap flags
H.expect_error("unknown mmap flag 'privat'", t.mmap, t, 0, P, "rw", "privat|anonymous")
H.expect_error("unknown mmap flag 'MAP_PRIVAT'", t.mmap, t, 0, P, "rw", "MAP_PRIVAT")
H.expect_error("empty mmap flag name", t.mmap, t, 0, P, "rw", "private|")
H.expect_error("mmap flag expected", t.mmap, t, 0, P, "rw", true)
-- other flag words
H.expect_error("unknown msync flag 'now'", t.msync, t, a, P, "now")
H.expect_error("unknown mremap flag 'move'", t.mremap, t, a, P, 2 * P, "move")
H.expect_error("unknown madvise advice 'dontneeed'", t.madvise, t, a, P, "dontneeed")
H.expect_error("one madvise advice expected", t.madvise, t, a, P, "dontneed|free")
H.expect_error("unknown whence 'start'", t.lseek, t, 3, 0, "start")
H.expect_error("unknown open flag 'read'", t.open, t, "f", "read")
-- numbers inside the names are accepted (any bit, as in C)
expect_eq({t:mmap(0, P, "rw", "private|0x20")}, {a - P}, "a number among the names")

-- sizes
H.expect_error("size too large (more than 64 bits)", t.mmap, t, 0, "99999999999999999999G",
               "rw", "private|anonymous")
H.expect_error("size too large (more than 64 bits)", t.mmap, t, 0, "0x10000000000000000",
               "rw", "private|anonymous")
H.expect_error("size too large (more than 64 bits)", t.munmap, t, a, "16E")
H.expect_error("negative size", t.mmap, t, 0, -4096, "rw", "private|anonymous")
H.expect_error("negative size", t.munmap, t, a, "-1")
H.expect_error("not a size", t.munmap, t, a, "4 K")
H.expect_error("not a size", t.munmap, t, a, "")
H.expect_error("not a size", t.munmap, t, a, "4KB!")
H.expect_error("size has no integer representation", t.munmap, t, a, 4096.5)
expect_eq(t:munmap(a + 4096, 4096.0), 0, "a float with an integer value is that integer")
H.expect_error("number expected, got table", t.munmap, t, a, {})
H.expect_error("number expected, got no value", t.munmap, t, a)
H.expect_error("length too large", t.load, t, a, "1G")
-- the largest sizes that fit are fine
expect_eq({t:munmap(a, "15E")}, {nil, "EINVAL", 22}, "15E is a size (EINVAL from munmap)")
expect_eq({t:munmap(a, "0xffffffffffffffff")}, {nil, "EINVAL", 22}, "2^64-1 is a size")

-- addresses: any integer, or a string
H.expect_error("number expected, got boolean", t.load, t, true, 1)
H.expect_error("size too large", t.load, t, "0x1ffffffffffffffff", 1)
expect_eq({t:load(-4096, 1)}, {nil, "SIGSEGV", "SEGV_MAPERR", -4096},
          "the top page (a negative integer is the address's bits)")

-- strings and other types
H.expect_error("string expected, got boolean", t.store, t, a, false)
H.expect_error("string expected, got no value", t.store, t, a)
H.expect_error("string expected, got table", m.spawn, m, {})
H.expect_error("fd out of range", t.mmap, t, 0, P, "r", "private", 1 << 33, 0)
H.expect_error("number has no integer representation", t.mmap, t, 0, P, "r", "private", 3, 0.5)
H.expect_error("vmsim.task expected, got no value", t.load)
H.expect_error("vmsim.task expected, got table", t.load, {}, a, 1)
H.expect_error("vmsim.task expected, got vmsim.machine", t.load, m, a, 1)
H.expect_error("vmsim.machine expected, got number", m.spawn, 42)

-- nothing above broke the machine
expect_eq(m:check(), true, "every invariant holds after the errors")
m:destroy()
