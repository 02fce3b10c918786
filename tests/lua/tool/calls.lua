-- A few calls of each return convention, for --json and the narration.
local m = vmsim.machine{ram = "16M", cpus = 2}
local t = m:spawn("calls")
local a = t:mmap(0, 8192, "rw", "private|anonymous")
t:store(a, "Hi\n\"quoted\"\0\255")
t:load(a, 2)
t:load(a + 65536, 1)                     -- a signal
t:munmap(a + 1, 4096)                    -- an errno
t:rusage()                               -- two results
t:walk(a)                                -- a table
m:check()
local c = t:fork()
c:exit()
