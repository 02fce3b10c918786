-- Runs a binding test script under the standard lua5.4 interpreter: the
-- module comes from LUA_CPATH, expect and expect_eq from the module, as
-- `vmsim run` provides them. Exit status 1 when an expectation failed.
-- usage: lua5.4 plain.lua SCRIPT [ARGS]
local vmsim = require "vmsim"
_G.vmsim = vmsim
expect, expect_eq = vmsim.expect, vmsim.expect_eq
local script = assert(arg[1], "usage: lua5.4 plain.lua SCRIPT [ARGS]")
local chunk = assert(loadfile(script))
local script_arg = table.move(arg, 1, #arg, 0, {}) -- arg[0] is the script
arg = script_arg
chunk(table.unpack(script_arg, 1))
os.exit(vmsim.failures() == 0 and 0 or 1, true) -- true: close the state, machines with it
