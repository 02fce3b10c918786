-- vmsim.replay: a recorded scenario (docs/scenarios.md, "Recorded
-- scenarios") replayed on a machine of its own, each step as a table;
-- differences by line and aspect; bad input as nil and a message naming
-- the line. The scenarios here need no program of the host (no execve):
-- a task's own mappings, the answers vmsim's defaults give.
local vmsim = vmsim or require "vmsim"
local H = dofile((arg[0]:match("^(.*)/") or ".") .. "/helpers.lua")

local agree = [[
# a recording's lines without an execve
set pku=0
mmap 0x0 0x2000 READ|WRITE PRIVATE|ANONYMOUS -1 0x0 => 0x7ffff7ffd000
maps 7ffff7ffd000-7ffff7fff000 rw-p 00000000
store 0x7ffff7ffd000 1 0x41 => ok
mprotect 0x7ffff7ffd000 0x1000 READ => 0
maps 7ffff7ffd000-7ffff7ffe000 r--p 00000000
maps 7ffff7ffe000-7ffff7fff000 rw-p 00000000
thread => @1
@1 munmap 0x7ffff7ffe000 0x1000 => 0
@1 maps 7ffff7ffd000-7ffff7ffe000 r--p 00000000
load 0x7ffff7ffe000 1 => SIGSEGV
store 0x7ffff7ffd000 1 0x42
@1 exit
]]
H.write_host_file("agree.txt", agree)
local r = vmsim.replay(H.root() .. "/agree.txt")
expect_eq(r.outcome, "agree", "the recording agrees")
expect_eq(#r.steps, 8, "one step per operation line (set and maps lines aside)")
expect_eq(r.difference, nil, "no difference")
expect_eq(r.steps[1], {line = 3, call = "mmap 0x0 0x2000 READ|WRITE PRIVATE|ANONYMOUS -1 0x0",
                       vmsim = "0x7ffff7ffd000", kernel = "0x7ffff7ffd000", maps = true, agrees = true},
          "the first step")
expect_eq(r.steps[4], {line = 9, call = "thread", vmsim = "@1", kernel = "@1", maps = false, agrees = true},
          "thread: the new task")
expect_eq(r.steps[5].call, "@1 munmap 0x7ffff7ffe000 0x1000", "a line of task @1")
expect_eq(r.steps[6].vmsim, "SIGSEGV", "a load of unmapped memory")
expect_eq(r.steps[7].kernel, nil, "a line without an answer is run, not checked")
expect_eq(r.steps[7].vmsim, "SIGSEGV", "and shows vmsim's answer (the page is read-only now)")

-- A recorded answer vmsim does not give: the steps stop there.
H.write_host_file("answer.txt", agree:gsub("=> 0x7ffff7ffd000", "=> 0x7ffff7ffc000"))
r = vmsim.replay(H.root() .. "/answer.txt")
expect_eq(r.outcome, "differ", "a changed answer differs")
expect_eq(#r.steps, 1, "the steps stop at the difference")
expect_eq(r.steps[1].agrees, false, "the step says so")
expect_eq({r.difference.line, r.difference.aspect}, {3, "ret"}, "where and in what")
expect(r.difference.text:find("kernel (recorded): 0x7ffff7ffc000", 1, true), "both answers in the text")

-- Recorded maps vmsim does not have.
H.write_host_file("maps.txt", agree:gsub("7ffff7ffe000%-7ffff7fff000 rw%-p", "7ffff7ffe000-7ffff7fff000 rwxp"))
r = vmsim.replay(H.root() .. "/maps.txt")
expect_eq({r.outcome, r.difference.line, r.difference.aspect}, {"differ", 6, "maps"}, "a changed maps line")
expect(r.difference.text:find("- 7ffff7ffe000-7ffff7fff000 rwxp", 1, true), "the kernel's line, marked -")

-- A setting over the recording's: a machine unlike the recording host differs.
r = vmsim.replay(H.root() .. "/agree.txt", {"stack_rlimit=1G"})
expect_eq({r.outcome, r.difference.line}, {"differ", 3}, "mmap_base follows RLIMIT_STACK")
H.expect_error("setting 1: 'no_such' is not a config field", vmsim.replay, H.root() .. "/agree.txt",
               {"no_such=1"})

-- Bad input: nil and the message, by line.
H.write_host_file("bad.txt", "set pku=0\nmmap 0x0 0x1000 READ PRIVATE|ANONYMOS -1 0\n")
local ok, err = vmsim.replay(H.root() .. "/bad.txt")
expect_eq(ok, nil, "a bad line: nil")
expect(err:find("bad.txt:2: mmap: bad or missing argument 4", 1, true), "the message names the line: " .. err)
H.write_host_file("order.txt", "execve /p => 0\nset pku=0\n")
ok, err = vmsim.replay(H.root() .. "/order.txt")
expect(ok == nil and err:find("order.txt:2: refused: set comes before every other line", 1, true),
       "a line out of a recording's order")
H.write_host_file("live.txt", "mmap +0x0 0x1000 READ PRIVATE|ANONYMOUS -1 0\n")
ok, err = vmsim.replay(H.root() .. "/live.txt")
expect(ok == nil and err:find("not a recorded scenario", 1, true), "a live scenario is not replayed here")
ok, err = vmsim.replay(H.root() .. "/missing.txt")
expect(ok == nil and err:find("missing.txt: No such file or directory", 1, true), "a missing file")
H.write_host_file("config.txt", "set pgtable_levels=3\nmmap 0x0 0x1000 READ PRIVATE|ANONYMOUS -1 0\n")
ok, err = vmsim.replay(H.root() .. "/config.txt")
expect(ok == nil and err:find("config.txt:1: the machine refuses its config: pgtable_levels", 1, true),
       "a config the machine refuses, by its set line: " .. tostring(err))
