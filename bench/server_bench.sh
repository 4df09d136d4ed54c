#!/usr/bin/env bash
# Server capacity benchmarks of issue 11, all in one run so that the ratios compare like with like:
#   1. one short request at a time on a keep-alive connection: p50 latency vs the raw Ort::Session::Run time of the
#      same input (`ortformers bench`, batch 1 x the sentence's token count);
#   2. 64 concurrent clients, one STS-B sentence per request: sentences/s of `ortformers serve` vs
#      `ortformers run sentence-embeddings` over the same corpus in one process, and vs a transformers.js server
#      written the usual way (bench/transformersjs-server, same checkpoint exported in transformers.js's layout);
#   3. 1,000 connections offering 10x the capacity measured in 2: p50/p99 of the accepted requests, 429 share, and
#      the server's peak RSS (VmHWM).
# Model: the MiniLM-L6-shaped random checkpoint of bench/support (6 layers, hidden 384), bert-base-uncased tokenizer.
# Load: bench_server load (bench/server.cpp: epoll client, keep-alive, closed or open loop).
# Env: BUILD (default build), BENCH_THREADS (intra-op threads of every engine, default 2), SECONDS_PER_LOAD (20),
#      ORTFORMERS_FIXTURES (default ../shared/fixtures).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
THREADS="${BENCH_THREADS:-2}"
SECS="${SECONDS_PER_LOAD:-20}"
FIXTURES="${ORTFORMERS_FIXTURES:-$ROOT/../shared/fixtures}"
CLI="$BUILD/ortformers"
TOOL="$BUILD/bench_server"
TJS="$ROOT/bench/transformersjs-server"

log() { printf '[server_bench] %s\n' "$*" >&2; }

if [[ ! -x "$TOOL" || ! -x "$CLI" ]]; then
  log "building ortformers and bench_server in $BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DORTFORMERS_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD" --target ortformers_cli bench_server
fi
# The transformers.js anchor's pinned packages. ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's postinstall only
# fetches the optional CUDA provider (from nuget.org); the CPU library is in the npm package.
want="$(sha256sum "$TJS/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$TJS/node_modules/.ortformers-stamp" || "$(cat "$TJS/node_modules/.ortformers-stamp")" != "$want" ]]; then
  log "npm ci in bench/transformersjs-server"
  (cd "$TJS" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --silent)
  echo "$want" >"$TJS/node_modules/.ortformers-stamp"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d /tmp/ortformers-server-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
json() { node -e 'const v=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(eval("v"+process.argv[1]))' "$1"; }
health_status() { # port -> the status line of GET /health, or nothing (bash's /dev/tcp, no curl needed)
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && head -n1 <&3) 2>/dev/null || true
}
wait_health() { # port pid
  for _ in $(seq 1 600); do
    kill -0 "$2" 2>/dev/null || { log "server (pid $2) exited"; return 1; }
    [[ "$(health_status "$1")" == *" 200 "* ]] && return 0
    sleep 0.1
  done
  log "server on port $1 not healthy after 60 s"
  return 1
}
# max |diff| between the /embed answer of the server on PORT for the first corpus sentence and `ortformers run`'s line
embed_diff() {
  node -e '
    const [port, first, runLine] = process.argv.slice(1);
    fetch(`http://127.0.0.1:${port}/embed`, {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify({inputs: JSON.parse(first)})})
      .then((r) => r.json()).then((e) => { const a = e[0], b = JSON.parse(runLine);
        console.log(Math.max(...a.map((x, i) => Math.abs(x - b[i]))).toExponential(2)); });
  ' "$1" "$(head -n1 "$WORK/corpus.jsonl")" "$(head -n1 "$WORK/run.jsonl")"
}
hwm_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
log "preparing the MiniLM-shaped model and the STS-B corpus in $WORK"
"$TOOL" prepare "$WORK" "$FIXTURES"
SHORT="$(json .text <"$WORK/short.json")"
SHORT_TOKENS="$(json .tokens <"$WORK/short.json")"
SENTENCES="$(wc -l <"$WORK/corpus.jsonl")"

# -- the one-process baseline (whole process: model load included) ----------------------------------------------------
log "ortformers run sentence-embeddings over the $SENTENCES sentences (one process)"
# once untimed: the first run writes ONNX Runtime's optimised-graph cache, later runs (and serve) map it
"$CLI" run sentence-embeddings --model "$WORK/serve" --threads "$THREADS" "$SHORT" >/dev/null
T0="$(date +%s.%N)"
"$CLI" run sentence-embeddings --model "$WORK/serve" --threads "$THREADS" --inputs "$WORK/corpus.jsonl" >"$WORK/run.jsonl"
T1="$(date +%s.%N)"
RUN_SPS="$(calc '%.1f' "$SENTENCES / ($T1 - $T0)")"

# -- 1. latency of one short request vs the raw session ---------------------------------------------------------------
raw_ms() {
  "$CLI" bench sentence-embeddings --model "$WORK/serve" --batch 1 --seq "$SHORT_TOKENS" --threads "$THREADS" \
    --seconds 5 2>/dev/null | json .raw_session_ms
}
log "raw session time, batch 1 x $SHORT_TOKENS tokens"
RAW_BEFORE="$(raw_ms)"

PORT="$(free_port)"
"$CLI" serve --model "$WORK/serve" --host 127.0.0.1 --port "$PORT" --threads "$THREADS" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
wait_health "$PORT" "$SERVE_PID" || { cat "$WORK/serve.log" >&2; exit 1; }
SERVE_DIFF="$(embed_diff "$PORT")"
log "ortformers serve: one keep-alive client, one short sentence per request"
LAT="$("$TOOL" load --port "$PORT" --single "$SHORT" --connections 1 --seconds 10)"
LAT_P50="$(json .p50_ms <<<"$LAT")"
log "raw session time again (the smaller median of before and after is the reference)"
RAW_AFTER="$(raw_ms)"
RAW_MS="$(calc '%.6f' "($RAW_BEFORE < $RAW_AFTER) ? $RAW_BEFORE : $RAW_AFTER")"

# -- 2. 64 concurrent clients -----------------------------------------------------------------------------------------
log "ortformers serve: 64 clients, STS-B sentences, ${SECS} s"
C64="$("$TOOL" load --port "$PORT" --corpus "$WORK/corpus.jsonl" --connections 64 --seconds "$SECS" --warmup 2)"
SERVE_SPS="$(json .ok_per_s <<<"$C64")"
WRK64=""
if command -v wrk >/dev/null; then  # the same workload through wrk, as a cross-check of the load tool
  WRK64="$(wrk -t2 -c64 -d"${SECS}s" --timeout 30s --latency -s bench/wrk/embed.lua "http://127.0.0.1:$PORT/embed" -- \
    "$WORK/corpus.jsonl" | tail -n1)"
fi
HWM_64="$(hwm_mib "$SERVE_PID")"

# -- 3. 1,000 connections at 10x capacity -----------------------------------------------------------------------------
RATE="$(calc '%.0f' "10 * $SERVE_SPS")"
log "ortformers serve: 1000 connections offering $RATE requests/s (10x), ${SECS} s"
OVER="$("$TOOL" load --port "$PORT" --corpus "$WORK/corpus.jsonl" --connections 1000 --rate "$RATE" --seconds "$SECS" \
  --warmup 2)"
HWM_OVER="$(hwm_mib "$SERVE_PID")"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" && SERVE_EXIT=0 || SERVE_EXIT=$?

log "transformers.js server: 64 clients, same corpus, ${SECS} s"
TPORT="$(free_port)"
node "$TJS/server.mjs" "$WORK/tjs" minilm "$TPORT" >"$WORK/tjs.log" 2>&1 &
TJS_PID=$!
PIDS+=("$TJS_PID")
wait_health "$TPORT" "$TJS_PID" || { cat "$WORK/tjs.log" >&2; exit 1; }
# Same checkpoint, same tokenizer: the transformers.js server must give the embedding `ortformers run` printed for
# the first sentence (a sanity check of the comparison).
TJS_DIFF="$(embed_diff "$TPORT")"
TJS64="$("$TOOL" load --port "$TPORT" --corpus "$WORK/corpus.jsonl" --connections 64 --seconds "$SECS" --warmup 2)"
TJS_SPS="$(json .ok_per_s <<<"$TJS64")"
kill "$TJS_PID" 2>/dev/null || true

OK_OVER="$(json '.status["200"] || 0' <<<"$OVER")"
R429="$(json '.status["429"] || 0' <<<"$OVER")"
REQ_OVER="$(json .requests <<<"$OVER")"
OTHER="$(node -e 'const v=JSON.parse(process.argv[1]); console.log(Object.entries(v.status).filter(([k])=>k!=="200"&&k!=="429").map(([k,n])=>k+":"+n).join(" ")||"none")' "$OVER")"

echo
echo "== ortformers serve capacity ($(nproc) cores, $THREADS intra-op threads, MiniLM-L6 shape, $SENTENCES STS-B sentences) =="
echo "   machine load average (1/5/15 min) at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "1. one short request (\"$SHORT\", $SHORT_TOKENS tokens), keep-alive, one client:"
echo "   p50 latency $(calc '%.3f' "$LAT_P50") ms, raw session $(calc '%.3f' "$RAW_MS") ms: overhead $(calc '%+.3f' "$LAT_P50 - $RAW_MS") ms (p99 $(json .p99_ms <<<"$LAT") ms)"
echo "2. 64 clients, one sentence per request:"
echo "   ortformers serve          $(calc '%8.1f' "$SERVE_SPS") sentences/s (p50 $(json .p50_ms <<<"$C64") ms, p99 $(json .p99_ms <<<"$C64") ms)"
[[ -n "$WRK64" ]] && echo "   (wrk, same workload: $(json .per_s <<<"$WRK64") sentences/s, p50 $(json .p50_ms <<<"$WRK64") ms, errors $(json .errors <<<"$WRK64"))"
echo "   ortformers run (1 process) $(calc '%7.1f' "$RUN_SPS") sentences/s  -> serve / run = $(calc '%.3f' "$SERVE_SPS / $RUN_SPS")"
echo "   transformers.js server    $(calc '%8.1f' "$TJS_SPS") sentences/s (p50 $(json .p50_ms <<<"$TJS64") ms)  -> serve / transformers.js = $(calc '%.2f' "$SERVE_SPS / $TJS_SPS")"
echo "   (first sentence vs \`ortformers run\`: max |diff| $SERVE_DIFF from serve, $TJS_DIFF from transformers.js)"
echo "3. 1000 connections offering $RATE requests/s (10x capacity) for ${SECS} s:"
echo "   $REQ_OVER answered: $OK_OVER accepted (200), $R429 rejected (429: $(calc '%.1f' "100 * $R429 / ($REQ_OVER > 0 ? $REQ_OVER : 1)")%), other: $OTHER, transport errors $(json .transport_errors <<<"$OVER")"
echo "   accepted: p50 $(json .p50_ms <<<"$OVER") ms, p99 $(json .p99_ms <<<"$OVER") ms; $(calc '%.1f' "$(json .ok_per_s <<<"$OVER")") sentences/s"
echo "   server peak RSS: ${HWM_64} MiB after the 64-client run, ${HWM_OVER} MiB after the overload; exit status on SIGTERM: $SERVE_EXIT"
