-- Shared by every scenario script (wrk loads it with require, through LUA_PATH).
--
-- Each wrk thread runs its own Lua state: it counts response statuses in the global
-- `statuses`, which `done` collects from every thread and writes, with wrk's throughput
-- and latency percentiles, as one JSON object to the file named by $BENCH_RESULT.
local M = {}

local threads = {}
statuses = {}

function M.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

function M.count(status)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

-- Stop this thread. wrk's main thread still sleeps out -d, so each stopped thread leaves a
-- marker file ($BENCH_RESULT.stopped-<n>); the harness interrupts wrk once all have.
function M.stop()
  local marker = io.open(os.getenv("BENCH_RESULT") .. ".stopped-" .. thread_index, "w")
  if marker then marker:close() end
  wrk.thread:stop()
end

function M.header(store)
  local headers = { ["Content-Type"] = "application/json" }
  if store and store ~= "" then headers["wix-site-id"] = store end
  return headers
end

function M.seed(index)
  math.randomseed(os.time() * 1000 + index * 7919)
end

local function json_statuses(merged)
  local parts = {}
  for key, value in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', key, value))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function M.done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for key, value in pairs(thread:get("statuses") or {}) do
      merged[key] = (merged[key] or 0) + value
    end
  end
  local errors = summary.errors
  local out = assert(io.open(assert(os.getenv("BENCH_RESULT")), "w"))
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f,'
      .. ' "max_us": %d, "socket_errors": %d, "timeouts": %d, "statuses": %s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, errors.connect + errors.read + errors.write, errors.timeout,
    json_statuses(merged)))
  out:close()
end

return M
