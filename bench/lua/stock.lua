-- Checkout wave (KIND=decrement) or restock (KIND=increment): each request changes LINES
-- random items out of the ITEMS seeded ones (ids made as in bench/seed.py) by AMOUNT.
local report = require("report")

local kind = assert(os.getenv("KIND"))
local items = tonumber(assert(os.getenv("ITEMS")))
local lines = tonumber(assert(os.getenv("LINES")))
local amount = tonumber(os.getenv("AMOUNT") or "1")
local path = "/stores/v3/bulk/inventory-items/" .. kind
local headers = report.header(os.getenv("STORE"))
local field = kind == "decrement" and "decrementBy" or "incrementBy"
local data = kind == "decrement" and "decrementData" or "incrementData"
local extra = kind == "decrement" and ', "restrictInventory": true' or ""

setup = report.setup
done = report.done

function init(args)
  report.seed(thread_index)
end

function request()
  local parts = {}
  for n = 1, lines do
    local id = string.format("00000000-0000-4000-8000-%012d", math.random(0, items - 1))
    parts[n] = string.format('{"inventoryItemId": "%s", "%s": %d}', id, field, amount)
  end
  local body = string.format('{"%s": [%s]%s}', data, table.concat(parts, ", "), extra)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  report.count(status)
end
