-- wrk script for bench/load.py: every connection is one signed-in person.
--
-- Run with one connection per thread (wrk -t N -c N): wrk's Lua state belongs to a
-- thread, so a thread with a single connection is the only way to give each
-- connection its own person and to know which request an answer belongs to.
--
-- Argument: a plan file written by load.py, a Lua chunk returning
--   { people = {token, ...}, quota = 0, requests = {
--       {weight = 4, method = "GET", path = "/today", auth = "cookie",
--        headers = {...}, body = nil}, ... } }
-- auth is "bearer" (the API), "cookie" (pages: the same token is the session
-- cookie) or "none". quota > 0: each thread stops after that many answers.
--
-- done() prints one line, "WRK-JSON {...}": requests, seconds, errors (socket
-- errors, timeouts and any answer outside 2xx), p50/p95/p99 in microseconds and the
-- latency histogram as [microseconds, count] pairs, so that load.py can merge runs.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

function init(args)
  local plan = dofile(args[1])
  local token = plan.people[(index - 1) % #plan.people + 1]
  prepared, bounds, total = {}, {}, 0
  for i, shape in ipairs(plan.requests) do
    local headers = {}
    for name, value in pairs(shape.headers or {}) do
      headers[name] = value
    end
    if shape.auth == "bearer" then
      headers["Authorization"] = "Bearer " .. token
    elseif shape.auth == "cookie" then
      headers["Cookie"] = "reconnect_session=" .. token
    end
    prepared[i] = wrk.format(shape.method, shape.path, headers, shape.body)
    total = total + shape.weight
    bounds[i] = total
  end
  quota = plan.quota or 0
  answered, unexpected = 0, 0
  math.randomseed(index)
end

function request()
  local pick, draw = 1, math.random() * total
  while bounds[pick] < draw do
    pick = pick + 1
  end
  return prepared[pick]
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    unexpected = unexpected + 1
  end
  if quota > 0 and answered == quota then
    io.stderr:write("quota reached\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local non_2xx = 0
  for _, thread in ipairs(threads) do
    non_2xx = non_2xx + (thread:get("unexpected") or 0)
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local pairs_ = {}
  for i = 1, #latency do
    local value, count = latency(i)
    pairs_[#pairs_ + 1] = string.format("[%d,%d]", value, count)
  end
  io.write(string.format(
    '\nWRK-JSON {"requests":%d,"seconds":%.6f,"errors":%d,"non_2xx":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"histogram":[%s]}\n',
    summary.requests, summary.duration / 1e6, socket_errors + non_2xx, non_2xx,
    socket_errors, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), table.concat(pairs_, ",")))
end
