-- report_vmas.lua: the HTML report's scale case of many VMAs (make bench):
-- 100,000 one-page mappings side by side that cannot merge (their
-- protections alternate), each touched once, then every tenth unmapped.
local vmsim = require "vmsim"

local n = tonumber(arg[1]) or 100000
local m = vmsim.machine{ram = "1G", cpus = 2, max_map_count = 2 * n}
local t = m:spawn("many")
local base = 0x100000000
for i = 0, n - 1 do
  t:mmap(base + i * 4096, 4096, (i % 2 == 0) and "rw" or "r", "private|anonymous|fixed")
end
for i = 0, n - 1, 2 do
  t:store(base + i * 4096, "x")
end
for i = 0, n - 1, 10 do
  t:munmap(base + i * 4096, 4096)
end
