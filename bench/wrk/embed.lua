-- wrk script: POST {"inputs": "<sentence>"} to /embed, cycling over a JSON-lines corpus (one JSON string a line, as
-- `bench_server prepare` writes corpus.jsonl). A cross-check of bench_server's closed-loop throughput with a load
-- tool no one here wrote.
--   wrk -t2 -c64 -d20s --latency -s bench/wrk/embed.lua http://127.0.0.1:PORT/embed -- CORPUS.jsonl
local bodies = {}
local n = 0
local i = 0

function init(args)
  local path = args[1] or error("usage: ... -s embed.lua URL -- CORPUS.jsonl")
  for line in io.lines(path) do
    if #line > 0 then
      n = n + 1
      bodies[n] = '{"inputs":' .. line .. '}'
    end
  end
  i = math.random(n)  -- threads start at different sentences
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  i = i % n + 1
  return wrk.format(nil, nil, nil, bodies[i])
end

-- errors: connect/read/write failures, timeouts (wrk's default 2 s) and non-2xx answers.
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format('{"requests": %d, "per_s": %.1f, "errors": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.requests / s,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
