-- A store through a shared mapping, then a script error: vmsim run must
-- print file:line: message, exit 1, and still write the dirty page back.
local m = vmsim.machine{ram = "16M", cpus = 1, root = arg[1]}
local t = m:spawn("writer")
local fd = assert(t:open("data.txt", "rdwr"))
local a = assert(t:mmap(0, 4096, "rw", "shared", fd, 0))
t:store(a, "DIRTY")
error("the script fails here")
