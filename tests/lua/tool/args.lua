-- arg as lua5.4 sets it, and the chunk's varargs.
local first, second = ...
expect_eq(arg[1], "one", "arg[1]")
expect_eq(arg[2], "two words", "arg[2]")
expect_eq(first, "one", "first vararg")
expect_eq(second, "two words", "second vararg")
expect(arg[0]:match("args%.lua$"), "arg[0] is the script")
expect(vmsim ~= nil and package.loaded.vmsim == vmsim, "vmsim is preloaded")
