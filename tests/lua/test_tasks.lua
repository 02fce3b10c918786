-- Processes and threads: fork (copy-on-write), thread (one mm), schedule,
-- exit, pid, cpu, machine; handles of exited tasks.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")
local P = 4096

local m = vmsim.machine{ram = "64M", cpus = 2, pcid = false, root = H.root()}
local parent = m:spawn("parent")
expect(math.type(parent:pid()) == "integer", "pid is an integer")
expect_eq(parent:cpu(), 0, "a new process is on CPU 0")
expect(rawequal(parent:machine(), m), "t:machine() is the machine's handle")
expect_eq(tostring(parent), "vmsim.task " .. parent:pid(), "tostring of a task")

local a = parent:mmap(0, 2 * P, "rw", "private|anonymous")
parent:store(a, "parent data")
parent:store(a + P, "second page")

-- fork: the child sees the parent's memory; writes are private to each
local child = parent:fork()
expect(child:pid() ~= parent:pid(), "the child has a pid of its own")
expect_eq(child:maps(), parent:maps(), "the child's maps are the parent's")
expect_eq(child:load(a, 11), "parent data", "the child reads the parent's page")
local cows = m:stats().cow_faults
local before = child:rusage()
expect_eq(child:store(a, "child"), true, "the child writes")
expect_eq(child:rusage() - before, 1, "one fault for the child's write")
expect_eq(m:stats().cow_faults - cows, 1, "a copy-on-write fault")
expect_eq(parent:load(a, 11), "parent data", "the parent's page is unchanged")
expect_eq(child:load(a, 11), "childt data", "the child's page changed")
expect(child:walk(a).pa ~= parent:walk(a).pa, "two frames after the copy")
expect_eq(child:walk(a + P).pa, parent:walk(a + P).pa, "the untouched page is still shared")

-- thread: one mm, so one page
local thread = parent:thread()
expect(thread:pid() ~= parent:pid(), "a thread has an id of its own")
expect_eq(thread:maps(), parent:maps(), "a thread shares the maps")
expect_eq(thread:schedule(1), 0, "schedule on CPU 1")
expect_eq(thread:cpu(), 1, "the thread runs on CPU 1")
expect_eq({thread:schedule(2)}, {nil, "EINVAL", 22}, "no CPU 2 on a 2-CPU machine")
expect_eq({thread:schedule(-1)}, {nil, "EINVAL", 22}, "no CPU -1")
thread:store(a + 8, "T")
expect_eq(parent:load(a + 8, 1), "T", "the parent sees the thread's store")
-- a shootdown: the thread's CPU caches the translation, munmap on CPU 0
local sd = m:stats().shootdowns
expect_eq(parent:munmap(a + P, P), 0, "munmap while the thread's CPU holds the mm")
expect(m:stats().shootdowns > sd, "munmap sent a shootdown")
expect_eq({thread:load(a + P, 1)}, {nil, "SIGSEGV", "SEGV_MAPERR", a + P},
          "the thread sees the unmap")

-- exit: the handle then raises errors
thread:exit()
expect(tostring(thread):find("exited"), "tostring of an exited task")
H.expect_error("task used after it exited", thread.pid, thread)
H.expect_error("task used after it exited", thread.load, thread, a, 1)
H.expect_error("task used after it exited", thread.exit, thread)
expect_eq(parent:load(a + 8, 1), "T", "the process lives on after its thread")
child:exit()
expect_eq(m:check(), true, "invariants after the exits")
H.expect_error("task used after it exited", child.fork, child)

-- a failed fork: nil, ENOMEM under strict overcommit with no room
local tight = vmsim.machine{ram = "16M", cpus = 1, overcommit_memory = 2, overcommit_ratio = 0,
                            swap = 0}
local p = tight:spawn("p")
expect_eq({p:mmap(0, "4M", "rw", "private|anonymous")}, {nil, "ENOMEM", 12}, "strict overcommit with ratio 0 refuses 4M")
tight:destroy()
m:destroy()

-- Calls from a coroutine, and an event handler that tries to yield.
local cm = vmsim.machine{ram = "16M", cpus = 1}
local ct = cm:spawn("co")
local co = coroutine.wrap(function()
  local x = ct:mmap(0, 4096, "rw", "private|anonymous")
  coroutine.yield(x)
  expect_eq(ct:store(x, "co"), true, "a store from a coroutine")
  return ct:load(x, 2)
end)
local x = co()
expect_eq(co(), "co", "the coroutine's load")
cm:on_event(function(ev) coroutine.yield() end)
local y = ct:mmap(0, 4096, "rw", "private|anonymous")
local ok, err = coroutine.resume(coroutine.create(function() return ct:store(y, "!") end))
expect_eq(ok, false, "a handler cannot yield")
expect(tostring(err):find("yield"), "the error says why: " .. tostring(err))
cm:on_event(nil)
expect_eq(cm:check(), true, "invariants after the yield attempt")
cm:destroy()
