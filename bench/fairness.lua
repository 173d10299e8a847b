-- wrk script for bench/fairness: counts responses per worker, client side.
--
-- Every worker in the fairness run answers "Hello from ... worker <id>"; this
-- script tallies the <id>s per wrk thread and, when wrk is done, prints one
-- line per worker, "FAIRNESS <id> <responses>", summed over threads, plus
-- "FAIRNESS other <n>" for bodies it could not attribute. Run with
-- -H 'Connection: close' so every request is a new TCP connection.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  other = 0
end

function response(status, headers, body)
  local id = body and string.match(body, "worker (%d+)")
  if status == 200 and id then
    counts[id] = (counts[id] or 0) + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local total, rest = {}, 0
  for _, t in ipairs(threads) do
    for id, n in pairs(t:get("counts")) do
      total[id] = (total[id] or 0) + n
    end
    rest = rest + t:get("other")
  end
  for id, n in pairs(total) do
    io.write(string.format("FAIRNESS %s %d\n", id, n))
  end
  io.write(string.format("FAIRNESS other %d\n", rest))
end
