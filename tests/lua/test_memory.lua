-- Memory calls of a task: mmap, munmap, mprotect, msync, mincore, mremap,
-- madvise; store, load, fetch; walk, maps, rusage, last_fault. Flag words by
-- name and by number; errors as nil, "ENAME", errno; signals as nil,
-- "SIGSEGV", code, addr.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")
local P = 4096

local m = vmsim.machine{ram = "64M", cpus = 2, zero_page = true, pku = true, root = H.root()}
local t = m:spawn("mem")
expect_eq(t:maps(), "", "a new process has no mappings")

-- mmap by names and by numbers: the same placement rules
local a = t:mmap(0, 2 * P, "rw", "private|anonymous")
expect(math.type(a) == "integer" and a > 0 and a % P == 0, "mmap returns a page address")
local b = t:mmap(0, 2 * P, vmsim.PROT_READ | vmsim.PROT_WRITE,
                 vmsim.MAP_PRIVATE | vmsim.MAP_ANONYMOUS, -1, 0)
expect_eq(b, a - 2 * P, "the next mapping goes just below (top-down)")
local c = t:mmap(0, P, "PROT_READ|PROT_WRITE", "MAP_PRIVATE | MAP_ANONYMOUS")
expect_eq(c, b - P, "names with their C prefix")
local d = t:mmap(0, P, "read|write", "Private|Anon", -1, 0)
expect_eq(d, c - P, "names in any case, anon for anonymous")
-- the four merged into one VMA (same flags, adjacent)
local first = t:maps():match("^(%x+)%-(%x+)")
expect_eq(tonumber(first, 16), d, "one VMA from d")
expect_eq(select(2, t:maps():gsub("\n", "")), 1, "the four mappings merged into one line")
expect_eq(t:maps():sub(1, 40):match("rw%-p"), "rw-p", "maps shows rw-p")

-- letters: r, w, x, -
local e = t:mmap(0, P, "r--", "private|anonymous")
expect(t:maps():find("r%-%-p"), "r-- gives r--p")
expect_eq(t:mprotect(e, P, "---"), 0, "mprotect to ---")
expect(t:maps():find("%-%-%-p"), "--- gives ---p")
expect_eq(t:mprotect(e, P, "none"), 0, "mprotect none")
expect_eq(t:mprotect(e, P, 0), 0, "mprotect 0")
expect_eq(t:mprotect(e, P, ""), 0, "mprotect with no names")

-- errors: nil, name, number (Linux's errno for each)
expect_eq({t:mmap(0, 0, "rw", "private|anonymous")}, {nil, "EINVAL", 22}, "mmap of 0 bytes")
expect_eq({t:mmap(0, P, "rw", "anonymous")}, {nil, "EINVAL", 22}, "mmap without a type")
expect_eq({t:mmap(0, P, "rw", "private", 99, 0)}, {nil, "EBADF", 9}, "mmap of a closed fd")
expect_eq({t:munmap(a + 1, P)}, {nil, "EINVAL", 22}, "munmap of an unaligned address")
expect_eq({t:mprotect(a + 1, P, "r")}, {nil, "EINVAL", 22}, "mprotect unaligned")
expect_eq({t:mmap(0, "0xffffffffffffffff", "rw", "private|anonymous")}, {nil, "ENOMEM", 12},
          "mmap of 2^64-1 bytes (a size string reaches 64 bits)")
expect_eq({t:mmap(0, P, "rw", "shared|anonymous|hugetlb")}, {nil, "ENOMEM", 12},
          "hugetlb with an empty pool")

-- store, load, fetch
expect_eq(t:store(a, "Hello"), true, "store returns true")
expect_eq(t:load(a, 5), "Hello", "load returns the bytes")
expect_eq(t:load(a + 5, 3), "\0\0\0", "anonymous memory reads zeros")
expect_eq(t:load(a, 0), "", "a load of 0 bytes")
expect_eq(t:store(a + P - 2, "span"), true, "a store across two pages")
expect_eq(t:load(a + P - 2, 4), "span", "a load across two pages")
local min0, maj0 = t:rusage()
expect_eq(maj0, 0, "no major fault for anonymous memory")
-- signals
local unmapped = a + 64 * P
expect_eq({t:load(unmapped, 1)}, {nil, "SIGSEGV", "SEGV_MAPERR", unmapped}, "load of nothing")
local lf = t:last_fault()
expect_eq(lf, {signo = vmsim.SIGSEGV, signal = "SIGSEGV", code = vmsim.SEGV_MAPERR,
               code_name = "SEGV_MAPERR", addr = unmapped, pkey = 0}, "last_fault")
expect_eq({t:store(e, "x")}, {nil, "SIGSEGV", "SEGV_ACCERR", e}, "store to PROT_NONE")
expect_eq({t:fetch(a, 4)}, {nil, "SIGSEGV", "SEGV_ACCERR", a}, "fetch from non-exec memory")
local x = t:mmap(0, P, "rx", "private|anonymous")
expect_eq(t:fetch(x, 16), true, "fetch from r-x memory")
local xo = t:mmap(0, P, "x", "private|anonymous")
expect_eq({t:load(xo, 1)}, {nil, "SIGSEGV", "SEGV_PKUERR", xo}, "exec-only memory with pku")
expect_eq(t:last_fault().pkey, 1, "exec-only memory has protection key 1")
-- a load crossing into an unmapped page faults at the first unmapped byte
expect_eq({t:load(a + 2 * P - 1, 2)}, {nil, "SIGSEGV", "SEGV_MAPERR", a + 2 * P},
          "a load that runs off the mapping")

-- faults counted per first touch: one minor fault per page stored
local f = t:mmap(0, 8 * P, "rw", "private|anonymous")
local before = t:rusage()
for i = 0, 7 do t:store(f + i * P, "z") end
expect_eq(t:rusage() - before, 8, "8 first stores, 8 minor faults")
before = t:rusage()
for i = 0, 7 do t:store(f + i * P + 8, "z") end
expect_eq(t:rusage() - before, 0, "stores to mapped pages take no fault")

-- walk: the page-table path to a frame
local w = t:walk(f)
expect_eq(w.present, true, "a stored page is present")
expect_eq(w.levels, 4, "4-level paging by default")
expect_eq(#w.steps, 4, "four steps")
expect_eq(w.steps[4].index, (f >> 12) & 511, "the PTE index is bits 20..12")
expect_eq(w.steps[1].index, (f >> 39) & 511, "the PGD index is bits 47..39")
expect_eq(w.steps[4].entry & 0xfffffffff000, w.pa & ~0xfff, "the PTE holds the frame")
expect_eq(w.steps[4].entry & 0x43, 0x43, "present, writable, dirty")
expect_eq(w.pa & 0xfff, f & 0xfff, "pa keeps the page offset")
expect_eq(t:walk(f + 5).pa, w.pa + 5, "walk of an address inside the page")
expect_eq(m:phys_read(w.pa, 1), "z", "the frame holds the store")
local w2 = t:walk(f + 512 * 512 * P * 4) -- another PUD entry: no table below
expect_eq(w2.present, false, "an address with no table is not present")
expect(#w2.steps < 4, "the walk stops at the missing table")

-- msync, mincore
expect_eq(t:msync(f, P, "sync"), 0, "msync sync")
expect_eq(t:msync(f, P, "async|invalidate"), 0, "msync async|invalidate")
expect_eq(t:msync(f, P), 0, "msync's flags default to sync")
expect_eq({t:msync(f, P, "sync|async")}, {nil, "EINVAL", 22}, "msync sync|async")
expect_eq({t:msync(f + 1, P, "sync")}, {nil, "EINVAL", 22}, "msync unaligned")
expect_eq(t:mincore(f, 8 * P), {1, 1, 1, 1, 1, 1, 1, 1}, "mincore of stored pages")
local g = t:mmap(0, 3 * P, "rw", "private|anonymous")
expect_eq(t:mincore(g, 3 * P), {0, 0, 0}, "mincore of untouched pages")
expect_eq(t:mincore(g, P + 1), {0, 0}, "mincore of a length past a page boundary")
expect_eq(t:mincore(g, 0), {}, "mincore of 0 bytes")
expect_eq({t:mincore(g + 1, P)}, {nil, "EINVAL", 22}, "mincore unaligned")
expect_eq({t:mincore(unmapped, P)}, {nil, "ENOMEM", 12}, "mincore of nothing")
H.expect_error("length too large", t.mincore, t, g, "1T")

-- madvise: by name, by C name, by number
t:store(g, "keep?")
expect_eq(t:madvise(g, P, "dontneed"), 0, "madvise dontneed")
expect_eq(t:load(g, 5), "\0\0\0\0\0", "dontneed drops private anonymous pages")
expect_eq(t:madvise(g, P, "MADV_WILLNEED"), 0, "madvise MADV_WILLNEED")
expect_eq(t:madvise(g, P, vmsim.MADV_RANDOM), 0, "madvise by number")
expect_eq({t:madvise(g, P, 1000)}, {nil, "EINVAL", 22}, "an unknown advice number")
expect_eq({t:madvise(unmapped, P, "normal")}, {nil, "ENOMEM", 12}, "madvise of nothing")
expect_eq(t:madvise(g, P, "guard_install"), 0, "guard_install")
expect_eq({t:load(g, 1)}, {nil, "SIGSEGV", "SEGV_MAPERR", g}, "a guard page")
expect_eq(t:madvise(g, P, "guard_remove"), 0, "guard_remove")

-- mremap: grow in place, move, fixed
local h = t:mmap(0, P, "rw", "private|anonymous")
t:store(h, "moved")
expect_eq({t:mremap(h, P, 2 * P, 0)}, {nil, "ENOMEM", 12}, "no room to grow, no MAYMOVE")
local h2 = t:mremap(h, P, 2 * P, "maymove")
expect(h2 ~= h, "MAYMOVE moved it")
expect_eq(t:load(h2, 5), "moved", "the page moved with it")
local target = 0x100000000
local h3 = t:mremap(h2, 2 * P, 2 * P, "maymove|fixed", target)
expect_eq(h3, target, "MREMAP_FIXED to the target")
expect_eq(t:load(target, 5), "moved", "the page at the target")
expect_eq({t:mremap(h3 + 1, P, P)}, {nil, "EINVAL", 22}, "mremap unaligned")
local h4 = t:mremap(target, 2 * P, P)
expect_eq(h4, target, "mremap shrink in place")

-- munmap frees; a second munmap of the same range is fine
expect_eq(t:munmap(target, P), 0, "munmap")
expect_eq({t:load(target, 1)}, {nil, "SIGSEGV", "SEGV_MAPERR", target}, "after munmap")
expect_eq(t:munmap(target, P), 0, "munmap of nothing is 0")

-- fixed and fixed_noreplace
local fx = t:mmap(0x200000000, P, "rw", "private|anonymous|fixed")
expect_eq(fx, 0x200000000, "MAP_FIXED")
expect_eq({t:mmap(fx, P, "rw", "private|anonymous|fixed_noreplace")}, {nil, "EEXIST", 17},
          "MAP_FIXED_NOREPLACE over a mapping")
expect_eq({t:mmap(0, P, "rw", "private|anonymous|fixed")}, {nil, "EPERM", 1},
          "MAP_FIXED at 0, below mmap_min_addr, unprivileged")
-- every mmap flag name parses (the machine decides what each does)
for _, name in ipairs{"shared", "private", "shared_validate", "droppable", "fixed", "anonymous",
                      "anon", "32bit", "growsdown", "denywrite", "executable", "locked",
                      "noreserve", "populate", "nonblock", "stack", "hugetlb", "sync",
                      "fixed_noreplace", "uninitialized", "huge_2mb", "huge_1gb"} do
  expect(vmsim["MAP_" .. name:upper()] ~= nil, "vmsim.MAP_" .. name:upper())
  local ok = pcall(t.mmap, t, 0, P, "rw", "private|" .. name)
  expect(ok, "mmap flag name " .. name)
end
-- addresses as strings
expect_eq(t:load(("0x%x"):format(f), 1), "z", "an address as a hex string")

expect_eq(m:check(), true, "every invariant holds")
m:destroy()
