-- What the binding's test scripts share.
local H = {}

-- f(...) must raise an error whose message contains `text`.
-- A failure names the caller's line.
function H.expect_error(text, f, ...)
  local caller = debug.getinfo(2, "Sl")
  local where = ("(called at %s:%d) "):format(caller.short_src, caller.currentline)
  local ok, err = pcall(f, ...)
  if ok then
    expect(false, where .. "an error containing '" .. text .. "'")
    return
  end
  expect(tostring(err):find(text, 1, true),
         ("%serror '%s' does not contain '%s'"):format(where, tostring(err), text))
end

-- The scratch folder the runner gives as the last argument.
function H.root()
  return assert(arg[#arg], "the scratch folder is the last argument")
end

-- Writes a host file in the scratch folder.
function H.write_host_file(name, text)
  local f = assert(io.open(H.root() .. "/" .. name, "wb"))
  f:write(text)
  f:close()
end

function H.read_host_file(name)
  local f = assert(io.open(H.root() .. "/" .. name, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

return H
