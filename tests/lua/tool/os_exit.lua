-- os.exit in the middle of a script: the machine is still destroyed and
-- its dirty page written back, and vmsim run exits with the code given.
local m = vmsim.machine{ram = "16M", cpus = 1, root = arg[1]}
local t = m:spawn("exiter")
local fd = assert(t:open("data.txt", "rdwr"))
local a = assert(t:mmap(0, 4096, "rw", "shared", fd, 0))
t:store(a, "EXIT!")
os.exit(3)
