-- 13_program.lua: a program's address space from its exec to its exit.
--
-- execve replaces a process's memory with a program's: the kernel reads the
-- ELF file's program headers and maps each PT_LOAD segment from the file
-- (code read-only and executable, data writable and private), adds zeroed
-- anonymous memory where a segment is longer in memory than in the file
-- (the bss), maps the program's interpreter (the dynamic loader, ld.so)
-- near the top of the mmap area, the vDSO below it, and builds the stack:
-- argv, envp and the auxiliary vector, at the top of user space. The heap
-- starts empty just past the bss and grows with brk. The loader runs
-- first: it maps libraries (here only a page of memory, and the heap) and
-- then the program runs; at exit everything goes.
--
-- So that this runs the same on any machine, the program is no file of the
-- host: the script writes two small ELF files, the program and its loader,
-- into the machine's folder, byte by byte. The loader's code makes what a
-- loader makes: brk(0), brk 64 KiB up, a store 256 KiB below the stack
-- pointer (the stack grows), an mmap of two pages, a store into them, and
-- exit_group(0).
--
-- Measured on Linux 6.18 (x86-64, address randomisation off, the host's
-- RLIMIT_STACK of 8 MiB): the same two files (the program naming its
-- loader by the loader's absolute path on the host, the one difference),
-- run under `vmsim follow -o`, give these maps at the exec stop (device and
-- inode aside) and these
-- answers: brk(0) = 0x55555555b000, brk(0x55555556b000) = 0x55555556b000,
-- the store grows [stack] down to 0x7ffffffbe000, mmap = 0x7ffff7ff2000;
-- every call and the maps after each agreed with vmsim.
local vmsim = require "vmsim"

-- ---- two ELF files, written with string.pack ----

-- An ELF64 x86-64 file of `size` bytes: the header, the program headers
-- (each {type, flags, offset, vaddr, filesz, memsz}), and blobs at offsets.
local PT_LOAD, PT_INTERP, PT_GNU_STACK = 1, 3, 0x6474e551
local R, W, X = 4, 2, 1
local function elf(entry, size, segments, blobs)
  local header = "\x7fELF\2\1\1" .. ("\0"):rep(9)
    .. string.pack("<I2I2I4I8I8I8I4I2I2I2I2I2I2", 3 --[[ET_DYN]], 62 --[[x86-64]], 1, entry,
                   64, 0, 0, 64, 56, #segments, 0, 0, 0)
  local phdrs = {}
  for _, s in ipairs(segments) do
    phdrs[#phdrs + 1] = string.pack("<I4I4I8I8I8I8I8I8", s[1], s[2], s[3], s[4], s[4], s[5], s[6],
                                    s[1] == PT_LOAD and 0x1000 or 1)
  end
  local bytes = {header .. table.concat(phdrs)}
  local at = #bytes[1]
  table.sort(blobs, function(a, b) return a[1] < b[1] end)
  for _, b in ipairs(blobs) do
    bytes[#bytes + 1] = ("\0"):rep(b[1] - at) .. b[2]
    at = b[1] + #b[2]
  end
  bytes[#bytes + 1] = ("\0"):rep(size - at)
  return table.concat(bytes)
end

-- The loader's code: the calls a loader makes, then exit_group(0).
local loader_code = table.concat{
  "\x31\xff\xb8\x0c\0\0\0\x0f\x05",                 -- brk(0)
  "\x48\x89\xc7\x48\x81\xc7\0\0\1\0\xb8\x0c\0\0\0\x0f\x05", -- brk(that + 64 KiB)
  "\x48\x89\xe0\x48\x2d\0\0\4\0\xc6\0\1",           -- store 1 byte 256 KiB below the stack pointer
  "\x31\xff\xbe\0\x20\0\0\xba\3\0\0\0\x41\xba\x22\0\0\0\x49\xc7\xc0\xff\xff\xff\xff\x45\x31\xc9",
  "\xb8\x09\0\0\0\x0f\x05",                         -- mmap(NULL, 8 KiB, rw, private|anonymous, -1, 0)
  "\xc6\0\1",                                       -- a store into it
  "\x31\xff\xb8\xe7\0\0\0\x0f\x05",                 -- exit_group(0)
}
-- PT_INTERP names the loader. Real programs name it by an absolute path
-- (/lib64/ld-linux-x86-64.so.2); the kernel opens a relative one from the
-- current folder, which for this machine is its own folder.
local interp = "ld.so\0"
-- The program: as a linker lays out a small position-independent program
-- (four PT_LOADs: headers r, code r-x, constants r, data rw whose bss runs
-- 0x2e00 bytes past the file's part, across two more pages).
local program = elf(0x1000, 0x4000, {
  {PT_INTERP, R, 0x318, 0x318, #interp, #interp},
  {PT_LOAD, R, 0, 0, 0x1000, 0x1000},
  {PT_LOAD, R | X, 0x1000, 0x1000, 0x1000, 0x1000},
  {PT_LOAD, R, 0x2000, 0x2000, 0x800, 0x800},
  {PT_LOAD, R | W, 0x2e10, 0x3e10, 0x200, 0x3000},
  {PT_GNU_STACK, R | W, 0, 0, 0, 0},
}, {{0x318, interp}, {0x1000, "\xf4"}, {0x2000, "constants"}, {0x2e10, "initialised data"}})
-- The loader: three PT_LOADs, its entry in the code.
local loader = elf(0x1000, 0x3000, {
  {PT_LOAD, R, 0, 0, 0x1000, 0x1000},
  {PT_LOAD, R | X, 0x1000, 0x1000, 0x1000, 0x1000},
  {PT_LOAD, R | W, 0x2000, 0x2000, 0x100, 0x100},
}, {{0x1000, loader_code}})

local root = io.popen("mktemp -d"):read("l") -- the machine's host folder
for name, bytes in pairs{prog = program, ["ld.so"] = loader} do
  local f = assert(io.open(root .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
  os.execute("chmod 755 " .. root .. "/" .. name)
end

-- ---- the exec ----

local m = vmsim.machine{ram = "64M", cpus = 1, root = root, stack_rlimit = "8M", zero_page = false}
local t = m:spawn("shell")
expect_eq(t:execve("prog", {"prog", "hello"}, {"HOME=/home/learner"}), 0, "execve")

-- What each line of the maps is, by its address and name.
local function annotate(maps)
  local notes = {
    ["555555554000"] = "the program's headers (PT_LOAD 1, read-only)",
    ["555555555000"] = "its code (PT_LOAD 2: r-x, shared with every process running it)",
    ["555555556000"] = "its constants (PT_LOAD 3, read-only)",
    ["555555557000"] = "its data (PT_LOAD 4: the file's pages, private; past the data the kernel zeroed the page: bss)",
    ["555555559000"] = "the rest of the bss (anonymous, zero-filled on first touch)",
    ["7ffff7ff4000"] = "[vvar]: the kernel's clock data, read by the vDSO",
    ["7ffff7ff8000"] = "[vvar_vclock]: the clock's page",
    ["7ffff7ffa000"] = "[vdso]: code the kernel maps in every process (time without a system call)",
    ["7ffff7ffc000"] = "the loader's headers (AT_BASE), just below mmap_base",
    ["7ffff7ffd000"] = "the loader's code: the task starts here",
    ["7ffff7ffe000"] = "the loader's data",
  }
  local out = {}
  for line in maps:gmatch("[^\n]+") do
    local start = line:match("^(%x+)%-")
    local name = line:match("%[(%w+)%]$")
    local note = notes[start]
      or (name == "heap" and "[heap]: brk's memory, just past the bss")
      or (name == "stack" and "[stack]: argv, envp, the auxiliary vector; grows down on faults")
      or (name == "vsyscall" and "[vsyscall]: the old fixed page, execute-only")
      or (line:match(" 00000000 00:00 0 *$") and "anonymous memory the loader mapped")
      or ""
    local range, perms = line:match("^(%S+) (%S+)")
    local file = line:match(" (/%S+)$") or ""
    out[#out + 1] = ("%-33s %s %-6s %s"):format(range, perms, file, note)
  end
  return table.concat(out, "\n")
end

print("After execve: the program, the vDSO, the loader and the stack:\n" .. annotate(t:maps()))
local x = t:exec_info()
expect_eq(x.load_bias, 0x555555554000, "a PIE program loads at 0x555555554000")
expect_eq(x.at_base, 0x7ffff7ffc000, "the loader, just below mmap_base (AT_BASE)")
expect_eq(x.entry, x.at_base + 0x1000, "the task starts in the loader (its entry)")
expect_eq(x.at_entry, x.load_bias + 0x1000, "the program's entry, for the loader (AT_ENTRY)")
local expected = {
  "555555554000-555555555000 r--p 00000000", "555555555000-555555556000 r-xp 00001000",
  "555555556000-555555557000 r--p 00002000", "555555557000-555555559000 rw-p 00002000",
  "555555559000-55555555b000 rw-p 00000000", "7ffff7ff4000-7ffff7ff8000 r--p 00000000",
  "7ffff7ff8000-7ffff7ffa000 r--p 00000000", "7ffff7ffa000-7ffff7ffc000 r-xp 00000000",
  "7ffff7ffc000-7ffff7ffd000 r--p 00000000", "7ffff7ffd000-7ffff7ffe000 r-xp 00001000",
  "7ffff7ffe000-7ffff7fff000 rw-p 00002000", "7ffffffde000-7ffffffff000 rw-p 00000000",
  "ffffffffff600000-ffffffffff601000 --xp 00000000",
}
local i = 0
for line in t:maps():gmatch("[^\n]+") do
  i = i + 1
  expect_eq(line:sub(1, #(expected[i] or "")), expected[i], "maps line " .. i)
end
expect_eq(i, #expected, "maps lines after execve")

-- The stack as the kernel wrote it: argc, argv, envp, the auxiliary vector.
local argc = string.unpack("<I8", t:load(x.sp, 8))
expect_eq(argc, 2, "argc at the stack pointer")
expect_eq(t:load(x.arg_start, x.arg_end - x.arg_start), "prog\0hello\0", "argv's strings")
expect_eq(t:load(x.env_start, x.env_end - x.env_start), "HOME=/home/learner\0", "envp's strings")
print(("The stack pointer is 0x%x: argc = %d, then argv, envp and %d auxiliary entries."):format(
  x.sp, argc, x.auxv_count))
expect_eq(t:load(0x555555557e10, 16), "initialised data", "the data segment holds the file's bytes")
expect_eq(t:load(0x555555558010, 8), ("\0"):rep(8), "the bss in the data's page reads zeros")
expect_eq(t:load(0x55555555a000, 8), ("\0"):rep(8), "and so does the bss's own memory")

-- ---- what the loader does (the same calls as its code) ----

local heap = t:brk(0)
expect_eq(heap, 0x55555555b000, "brk(0): the heap starts just past the bss, page-aligned")
expect_eq(t:brk(heap + 0x10000), heap + 0x10000, "brk 64 KiB up")
expect_eq(t:store(x.sp - 0x40000, "\1"), true, "a store 256 KiB below the stack pointer")
local page = t:mmap(0, 0x2000, "rw", "private|anonymous")
expect_eq(page, 0x7ffff7ff2000, "mmap: below the vDSO, top-down from mmap_base")
expect_eq(t:store(page, "\1"), true, "a store into it")
print("\nAfter the loader's brk, its store far down the stack and its mmap:\n" .. annotate(t:maps()))
expect(t:maps():find("55555555b000%-55555556b000 rw%-p 00000000 00:00 0 +%[heap%]"), "the [heap] line")
expect(t:maps():find("7ffffffbe000%-7ffffffff000 rw%-p 00000000 00:00 0 +%[stack%]"),
       "the stack grew down to the page of the store")
expect_eq(m:check(), true, "every invariant holds")

-- ---- exit ----

local before = m:stats().frames_used
t:exit()
print(("\nexit: the whole address space goes; %d frames in use before, %d after.")
  :format(before, m:stats().frames_used))
expect(m:stats().frames_used < before, "exit frees the program's frames")
expect_eq(m:check(), true, "every invariant holds after exit")
m:destroy()
os.execute("rm -rf " .. root)
