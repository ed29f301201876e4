-- Replays prepared requests: BODIES names a file of "path<TAB>json body" lines, made by
-- the Python side (query pages, cursor pages, searches). Each request picks one at random,
-- or the only one.
local report = require("report")

local headers = report.header(os.getenv("STORE"))
local requests_ = {}
for line in io.lines(assert(os.getenv("BODIES"))) do
  local path, body = line:match("^([^\t]+)\t(.*)$")
  table.insert(requests_, wrk.format("POST", path, headers, body))
end

setup = report.setup
done = report.done

function init(args)
  report.seed(thread_index)
end

function request()
  return requests_[math.random(1, #requests_)]
end

function response(status, headers, body)
  report.count(status)
end
