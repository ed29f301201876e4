-- Bulk create: BATCHES requests of BATCH new items each, split over the wrk threads (run
-- with as many threads as connections, so each connection is its own thread and sends its
-- batches one after another). A thread stops once every batch it owns has been answered;
-- variants are numbered by batch, so no two requests create the same item.
--
-- The batch a request carries follows from the answers so far, not from how often
-- request() ran: wrk also calls request() once before the run, to check the script.
local report = require("report")

local batches = tonumber(assert(os.getenv("BATCHES")))
local batch = tonumber(assert(os.getenv("BATCH")))
local path = "/stores/v3/bulk/inventory-items/create"
local headers = report.header(os.getenv("STORE"))

local first_batch, step, answered, mine = 0, 1, 0, 0

setup = report.setup
done = report.done

function init(args)
  step = tonumber(assert(os.getenv("THREADS")))
  first_batch = thread_index - 1
  mine = math.floor((batches - first_batch + step - 1) / step)
end

function request()
  local number = first_batch + answered * step
  if number >= batches then
    -- Nothing left: this thread is stopping; wrk still wants a request to hold.
    return wrk.format("GET", "/health")
  end
  local parts = {}
  local first = number * batch
  for n = 0, batch - 1 do
    local index = first + n
    parts[n + 1] = string.format(
      '{"productId": "product-%06d", "variantId": "10000000-0000-4000-8000-%012d",'
        .. ' "quantity": %d}', math.floor(index / 20), index, index % 1000)
  end
  return wrk.format("POST", path, headers,
    '{"inventoryItems": [' .. table.concat(parts, ", ") .. '], "returnEntity": false}')
end

function response(status, headers, body)
  report.count(status)
  answered = answered + 1
  if answered >= mine then
    report.stop()
  end
end
