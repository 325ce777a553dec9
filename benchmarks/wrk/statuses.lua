-- Answers counted by status, for the scripts whose runner checks them (mix.lua, soak.lua):
-- count(status) in response(), member(threads) in done() gives the report's "statuses" member.
-- Counts live in number globals: thread:get() copies numbers, not tables.
local STATUSES = { 200, 207, 400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504 }
local NAMES = {}
for _, status in ipairs(STATUSES) do NAMES[status] = "count_" .. status end

local statuses = {}

function statuses.count(status)
  local name = NAMES[status] or "count_other"
  _G[name] = (_G[name] or 0) + 1
end

local function total(threads, name)
  local count = 0
  for _, thread in ipairs(threads) do count = count + (thread:get(name) or 0) end
  return count
end

function statuses.member(threads)
  local parts = {}
  for _, status in ipairs(STATUSES) do
    local count = total(threads, NAMES[status])
    if count > 0 then parts[#parts + 1] = string.format("\"%d\":%d", status, count) end
  end
  local other = total(threads, "count_other")
  if other > 0 then parts[#parts + 1] = string.format("\"other\":%d", other) end
  return string.format("\"statuses\":{%s},", table.concat(parts, ","))
end

return statuses
