-- Memory larger than RAM through the binding: smaps, pagemap, a swap entry
-- in a walk, meminfo, reclaim's counters in stats, the OOM calls.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")

local PG = 4096
local m = vmsim.machine{ram = "8M", swap = "12M", zero_page = false, pku = false,
                        privileged = true, min_free_kbytes = 0, watermark_scale_factor = 10,
                        swappiness = 60, page_cluster = 3, root = H.root()}
local t = m:spawn("swapper")
local a = t:mmap(0, 4 * PG, "rw", "private|anonymous")
for i = 0, 3 do t:store(a + i * PG, string.char(65 + i)) end

-- smaps: the VMA's block, Linux's format.
local smaps = t:smaps()
expect(smaps:find("\nRss:                  16 kB\n", 1, true), "Rss of 4 written pages")
expect(smaps:find("\nPrivate_Dirty:        16 kB\n", 1, true), "all private and dirty")
expect(smaps:find("VmFlags: rd wr mr mw me ac \n", 1, true), "VmFlags")

-- pagemap: present (bit 63), exclusive (bit 56), the frame a walk gives.
local e = t:pagemap(a, 4)
expect_eq(#e, 4, "four entries")
expect_eq(e[1] >> 63, 1, "present")
expect_eq((e[1] >> 56) & 1, 1, "exclusive")
expect_eq(e[1] & ((1 << 55) - 1), t:walk(a).pa // PG, "the frame number (privileged)")

-- Paged out: a swap entry in the PTE, in pagemap, in smaps, in the counters.
expect_eq(t:madvise(a, 2 * PG, "pageout"), 0, "MADV_PAGEOUT")
local w = t:walk(a)
expect_eq(w.present, false, "no longer present")
expect_eq(w.swap.type, 0, "swap type 0")
expect_eq(w.swap.offset, 1, "the first slot")
expect_eq(w.swap.exclusive, true, "exclusive to this mm")
expect_eq(t:pagemap(a)[1], (1 << 62) | (1 << 5), "pagemap: swapped, offset 1 in bits 5-54")
expect(t:smaps():find("\nSwap:                  8 kB\nSwapPss:               8 kB\n", 1, true),
       "Swap and SwapPss")
expect_eq(m:stats().vm.pswpout, 2, "pswpout")
expect(m:meminfo():find("\nSwapFree:          12280 kB\n", 1, true), "SwapFree")
-- Still in the swap cache: the touch is minor, nothing read.
local _, maj0 = t:rusage()
expect_eq(t:load(a, 1), "A", "the data back")
local _, maj1 = t:rusage()
expect_eq(maj1, maj0, "a minor fault: the swap cache held it")
expect_eq(m:stats().vm.pswpin, 0, "pswpin")

-- Twice the RAM: reclaim runs, and every byte comes back.
local big = t:mmap(0, 16 << 20, "rw", "private|anonymous")
for off = 0, (16 << 20) - PG, PG do t:store(big + off, string.pack("<I4", off)) end
for off = 0, (16 << 20) - PG, 64 * PG do
  expect_eq(t:load(big + off, 4), string.pack("<I4", off), "page at " .. off)
end
local s = m:stats()
expect(s.vm.pswpout > 1000 and s.vm.pswpin > 0, "pages left for swap and came back")
expect(s.vm.pgscan_kswapd + s.vm.pgscan_direct > 0, "reclaim scanned")
expect(s.watermark.min <= s.watermark.low and s.watermark.low <= s.watermark.high, "watermarks")
expect_eq(m:check(), true, "vms_check")

-- Reclaim's events through on_event: a pass of kswapd begins and ends,
-- each page written to swap is a swap-out, each read a swap-in, as the
-- counters say.
do
  local r = vmsim.machine{ram = "1M", swap = "4M", zero_page = false, min_free_kbytes = 0,
                          watermark_scale_factor = 10, swappiness = 60, page_cluster = 0,
                          root = H.root()}
  local seen = {}
  r:on_event(function(ev) seen[ev.kind] = (seen[ev.kind] or 0) + 1
    if ev.kind == "reclaim-begin" then expect(ev.detail == "kswapd" or ev.detail == "direct", "who reclaims") end
  end)
  local p = r:spawn("big")
  local b = p:mmap(0, 512 * PG, "rw", "private|anonymous")
  for i = 0, 511 do p:store(b + i * PG, "x") end
  expect_eq(p:load(b, 1), "x", "the first page back")
  local s = r:stats()
  expect(s.vm.pswpout > 0, "pages went to swap")
  expect_eq(seen["swap-out"], s.vm.pswpout, "one swap-out event a page written")
  expect_eq(seen["swap-in"], s.vm.pswpin, "one swap-in event a page read")
  expect_eq(seen["reclaim-begin"], seen["reclaim-end"], "every pass ends")
  expect_eq(seen["reclaim-begin"], s.vm.pageoutrun + s.vm.allocstall, "a pass per kswapd run or stall")
  expect(s.swap_used > 0, "slots in use")
  r:destroy()
end

-- A memory cgroup's reclaim on its statistics as last flushed: a 400-page
-- file read twice stays active through a 1,024-page stream when nothing
-- flushes the statistics between the two, and is aged when
-- m:cgroup_flush_stats() does (tests/test_vmscan.c measures the host).
local function active_file_after_a_stream(flush)
  local c = vmsim.machine{ram = "4M", swap = 0, zero_page = false, pku = false,
                          min_free_kbytes = 0, watermark_scale_factor = 1, swappiness = 60,
                          readahead_kb = 4, large_folios = false, cgroup_reclaim = true,
                          cgroup_flushed_stats = true, root = H.root()}
  H.write_host_file("small.dat", string.rep("s", 400 * PG))
  H.write_host_file("big.dat", string.rep("b", 1024 * PG))
  local u = c:spawn("stream")
  local small, big = u:open("small.dat"), u:open("big.dat")
  local buf = u:mmap(0, PG, "rw", "private|anonymous")
  for _ = 1, 2 do
    for i = 0, 399 do expect_eq(u:pread(small, buf, PG, i * PG), PG, "small page " .. i) end
  end
  if flush then c:cgroup_flush_stats() end
  for i = 0, 1023 do expect_eq(u:pread(big, buf, PG, i * PG), PG, "big page " .. i) end
  local active = tonumber(c:meminfo():match("\nActive%(file%):%s+(%d+) kB")) // 4
  expect_eq(c:check(), true, "vms_check")
  c:destroy()
  return active
end
expect_eq(active_file_after_a_stream(false), 400, "not flushed: the small file stays active")
local aged = active_file_after_a_stream(true)
expect(aged >= 202 and aged <= 230, "flushed: the small file is aged (" .. aged .. ")")

-- OOM calls.
expect_eq(t:oom_score_adj(), 0, "oom_score_adj starts at 0")
expect_eq(t:set_oom_score_adj(1000), 0, "set_oom_score_adj")
expect_eq(t:oom_score_adj(), 1000, "read back")
expect(t:oom_score() > 1000, "oom_score with adj 1000")
local r, err = t:set_oom_score_adj(1001)
expect_eq(r, nil, "1001 refused")
expect_eq(err, "EINVAL", "with EINVAL")
expect_eq(t:killed(), false, "not killed")
m:destroy()
