-- Programs: execve (by its return conventions, the other threads' handles
-- dying with their threads), brk, exec_info, and the new config fields.
-- The program is the host's /bin/true under root "/", read only.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")

-- the config fields execve and brk read
local cfg = vmsim.machine{ram = "64M", cpus = 2, stack_rlimit = "8M", data_rlimit = "unlimited",
                          uid = 1000, gid = 1000, hwcap = 0x178bebff, hwcap2 = 2,
                          minsigstksz = 3376}
cfg:destroy()
H.expect_error("field 'uid': too large", vmsim.machine, {uid = 1 << 32})
H.expect_error("field 'stack_rlimit': negative size", vmsim.machine, {stack_rlimit = -1})

-- errors before the point of no return: the threads live on
H.write_host_file("not-a-program", "plain text\n")
local m = vmsim.machine{ram = "64M", cpus = 2, root = H.root()}
local t = m:spawn("p")
local thr = t:thread()
expect_eq({t:execve("missing", {"missing"})}, {nil, "ENOENT", 2}, "execve of a missing file")
expect_eq({t:execve("not-a-program")}, {nil, "EACCES", 13}, "a file without exec permission")
expect(thr:pid() > 0, "the thread lives after a failed execve")
H.expect_error("argv[2]: string expected, got number", t.execve, t, "x", {"a", 2})
H.expect_error("table expected", t.execve, t, "x", "argv")
expect_eq(m:check(), true, "invariants after the failed execve")
-- brk before any execve: 0, as vms_brk gives for a task with no heap
expect_eq(t:brk(), t:exec_info().brk, "brk(0) is the current break")
m:destroy()

local f = io.open("/bin/true", "rb")
if not f then
  print("no /bin/true on this host: the execve of a real program is not tested")
  return
end
f:close()
m = vmsim.machine{ram = "256M", cpus = 2, root = "/"}
t = m:spawn("sh")
local thread = t:thread()
expect_eq(t:execve("/bin/true", {"true", "--version"}, {"HOME=/root"}), 0, "execve of /bin/true")
H.expect_error("task used after it exited", thread.pid, thread)
expect(t:maps():find("[stack]", 1, true), "the new program has a stack")
expect(t:maps():find("[vdso]", 1, true), "and a vdso")
local x = t:exec_info()
for _, k in ipairs{"entry", "sp", "at_entry", "at_base", "at_phdr", "at_random", "at_execfn",
                   "vdso", "load_bias", "auxv", "auxv_count", "start_code", "end_code",
                   "start_data", "end_data", "start_brk", "brk", "start_stack", "arg_start",
                   "arg_end", "env_start", "env_end", "mmap_base"} do
  expect(math.type(x[k]) == "integer", "exec_info." .. k)
end
expect(x.entry ~= 0 and x.sp ~= 0, "an entry point and a stack pointer")
-- the stack holds argc, then argv's strings at arg_start
local argc = string.unpack("<I8", t:load(x.sp, 8))
expect_eq(argc, 2, "argc on the stack")
expect_eq(t:load(x.arg_start, x.arg_end - x.arg_start), "true\0--version\0", "argv's strings")
expect_eq(t:load(x.env_start, x.env_end - x.env_start), "HOME=/root\0", "envp's strings")
-- brk: the heap grows and shrinks
local start = t:brk()
expect_eq(start, x.brk, "brk() is the break execve set")
expect_eq(t:brk(start + 8192), start + 8192, "the break moves up")
expect(t:maps():find("[heap]", 1, true), "a [heap] line")
expect_eq(t:store(start, "heap"), true, "the heap is writable")
expect_eq(t:brk(start), start, "and back down")
expect_eq(t:brk(1), start, "a break below the start is refused: the current one")
expect_eq(m:check(), true, "invariants after execve and brk")
m:destroy()
