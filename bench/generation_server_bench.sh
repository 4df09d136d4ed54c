#!/usr/bin/env bash
# Continuous batching of `ortformers serve` (issue 22; not a test): generated tokens/s, time to first token and
# inter-token latency at 1, 4, 16 and 64 concurrent streams (POST /generate_stream, 128-token prompts, 128 new
# tokens, greedy) on the Llama-shaped benchmark model of bench/llama_cpp_bench.sh, and llama.cpp's parallel
# sequences on one context (node-llama-cpp 3.21.1, same weights as GGUF, same prompt ids) at 16 sequences, in one run.
# Env: BUILD (build), WORK ($BUILD/llama-bench: shared with llama_cpp_bench.sh), PRECISION (f32 | int8 | int4; the
# GGUF of the same precision is F32 | Q8_0 | Q4_0), STREAMS ("1 4 16 64"), PROMPT_TOKENS (128), NEW_TOKENS (128),
# BENCH_THREADS (2), SERVE_ARGS (extra `serve` flags), ORTFORMERS_FIXTURES.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
WORK="${WORK:-$BUILD/llama-bench}"
PRECISION="${PRECISION:-f32}"
STREAMS="${STREAMS:-1 4 16 64}"
PROMPT_TOKENS="${PROMPT_TOKENS:-128}"
NEW_TOKENS="${NEW_TOKENS:-128}"
THREADS="${BENCH_THREADS:-2}"
FIXTURES="${ORTFORMERS_FIXTURES:-$ROOT/../shared/fixtures}"
CLI="$BUILD/ortformers"
LCPP="$ROOT/bench/llama_cpp"
log() { printf '[generation_server_bench] %s\n' "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

for t in ortformers_cli bench_llama_checkpoint bench_generation_server; do cmake --build "$BUILD" --target "$t" >&2; done
[[ -d "$LCPP/node_modules/node-llama-cpp" ]] || (cd "$LCPP" && npm ci --ignore-scripts --no-audit --no-fund >&2)
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
declare -A QUANT=([f32]="" [int8]="--quantize int8" [int4]="--quantize int4")
declare -A GGUF=([f32]=f32 [int8]=q8_0 [int4]=q4_0)
if [[ ! -f "$WORK/gguf/model-q4_0.gguf" ]]; then
  log "writing the benchmark checkpoint and its GGUF files into $WORK"
  "$BUILD/bench_llama_checkpoint" "$WORK" "$FIXTURES/vocab/llama-2/tokenizer.model" >&2
fi
if [[ ! -f "$WORK/onnx-$PRECISION/model.onnx" ]]; then
  log "exporting $PRECISION"
  # shellcheck disable=SC2086
  "$CLI" export --model "$WORK/hf" --task text-generation-with-past ${QUANT[$PRECISION]} --quiet "$WORK/onnx-$PRECISION" >&2
fi

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
LOG="$WORK/serve-$PRECISION.log"
# shellcheck disable=SC2086
"$CLI" serve --model "$WORK/onnx-$PRECISION" --host 127.0.0.1 --port "$PORT" --threads "$THREADS" ${SERVE_ARGS:-} \
  >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.2
done

log "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, threads $THREADS, $PRECISION, date $(date -u +%F)"
RESULTS=()
for n in $STREAMS; do
  # warm-up: one short stream
  "$BUILD/bench_generation_server" streams --port "$PORT" --model "$WORK/hf" --streams 1 --prompt-tokens 16 \
    --new-tokens 8 >/dev/null
  log "ortformers serve: $n streams (load $(load))"
  r="$("$BUILD/bench_generation_server" streams --port "$PORT" --model "$WORK/hf" --streams "$n" \
       --prompt-tokens "$PROMPT_TOKENS" --new-tokens "$NEW_TOKENS")"
  echo "$r" >&2
  RESULTS+=("$r")
done
LCPP_N=16
log "llama.cpp parallel sequences: $LCPP_N on one context, ${GGUF[$PRECISION]} (load $(load))"
ids="$("$BUILD/bench_generation_server" prompts --model "$WORK/hf" --streams "$LCPP_N" --prompt-tokens "$PROMPT_TOKENS")"
lcpp="$(cd "$LCPP" && node parallel.mjs "$WORK/gguf/model-${GGUF[$PRECISION]}.gguf" "$ids" "$NEW_TOKENS" "$THREADS")"
echo "$lcpp" >&2
python3 - "$lcpp" "${RESULTS[@]}" <<'PY'
import json, sys
lcpp = json.loads(sys.argv[1])
rows = [json.loads(x) for x in sys.argv[2:]]
one = next((r for r in rows if r["streams"] == 1), None)
print("| streams | generated tokens/s | x one stream | TTFT p50 / p99 ms | inter-token p50 / p99 ms | failed |")
print("|---|---|---|---|---|---|")
for r in rows:
    ratio = r["tokens_per_s"] / one["tokens_per_s"] if one else float("nan")
    print(f"| {r['streams']} | {r['tokens_per_s']:.1f} | {ratio:.2f} | {r['ttft_ms_p50']:.0f} / {r['ttft_ms_p99']:.0f} | "
          f"{r['itl_ms_p50']:.1f} / {r['itl_ms_p99']:.1f} | {r['failed']} |")
print(f"| llama.cpp, {lcpp['sequences']} sequences | {lcpp['tokens_per_s']:.1f} | | {lcpp['ttft_ms_p50']:.0f} / "
      f"{lcpp['ttft_ms_p99']:.0f} | {lcpp['itl_ms_p50']:.1f} / {lcpp['itl_ms_p99']:.1f} | |")
r16 = next((r for r in rows if r["streams"] == lcpp["sequences"]), None)
if one and r16:
    print()
    print(f"16 streams vs one: {r16['tokens_per_s'] / one['tokens_per_s']:.2f}x tokens/s (target >= 4), "
          f"inter-token p99 {r16['itl_ms_p99'] / one['itl_ms_p99']:.2f}x (target <= 3); "
          f"vs llama.cpp at 16: {r16['tokens_per_s'] / lcpp['tokens_per_s']:.2f}x (target >= 1.0)")
PY
