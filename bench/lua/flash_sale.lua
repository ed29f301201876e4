-- Flash sale: every request takes one unit of the same item, restricted (no overselling).
-- With STOP_ON_REJECT=1 a thread stops at its first refusal: the run ends when the item is
-- sold out. Without it the run is time-bound and measures the refusals.
local report = require("report")

local stop_on_reject = os.getenv("STOP_ON_REJECT") == "1"

wrk.method = "POST"
wrk.path = "/stores/v3/bulk/inventory-items/decrement"
wrk.headers = report.header(os.getenv("STORE"))
wrk.body = string.format(
  '{"decrementData": [{"inventoryItemId": "%s", "decrementBy": 1}], "restrictInventory": true}',
  assert(os.getenv("ITEM")))

setup = report.setup
done = report.done

function response(status, headers, body)
  report.count(status)
  if stop_on_reject and status ~= 200 then
    report.stop()
  end
end
