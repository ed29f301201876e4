-- Bulk create: BATCHES requests of BATCH new items each, split over the wrk threads (run
-- with as many threads as connections, so each connection is its own thread). A thread
-- stops once every batch it sent has been answered; variants are numbered by batch, so no
-- two requests create the same item.
local report = require("report")

local batches = tonumber(assert(os.getenv("BATCHES")))
local batch = tonumber(assert(os.getenv("BATCH")))
local path = "/stores/v3/bulk/inventory-items/create"
local headers = report.header(os.getenv("STORE"))

local next_batch, step, answered, mine = 0, 1, 0, 0

function setup(thread)
  report.setup(thread)
end

done = report.done

function init(args)
  local threads = tonumber(assert(os.getenv("THREADS")))
  next_batch = thread_index - 1
  step = threads
  mine = math.floor((batches - next_batch + step - 1) / step)
end

function request()
  if next_batch >= batches then
    -- Nothing left: this thread is stopping; wrk still wants a request to hold.
    return wrk.format("GET", "/health")
  end
  local parts = {}
  local first = next_batch * batch
  for n = 0, batch - 1 do
    local index = first + n
    parts[n + 1] = string.format(
      '{"productId": "product-%06d", "variantId": "10000000-0000-4000-8000-%012d",'
        .. ' "quantity": %d}', math.floor(index / 20), index, index % 1000)
  end
  next_batch = next_batch + step
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
