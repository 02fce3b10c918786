-- An error raised in an event handler ends the script as any error does.
local m = vmsim.machine{ram = "16M", cpus = 1}
local t = m:spawn("h")
m:on_event(function(ev)
  if ev.kind == "fault" then error("handler refused the fault") end
end)
local a = t:mmap(0, 4096, "rw", "private|anonymous")
t:store(a, "x")
