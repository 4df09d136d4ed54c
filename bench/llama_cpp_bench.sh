#!/usr/bin/env bash
# Decoding speed of ortformers vs llama.cpp vs transformers.js on the same weights, in one run (issue 21; not a
# test). The benchmark Llama (bench/support/llama_checkpoint.hpp: hidden 768, 12 layers, 12 query / 4 key-value
# heads, intermediate 2048, Llama-2's 32,000-piece tokenizer.model, random weights) is written as a transformers
# folder and as GGUF F32 / Q8_0 / Q4_0 (bench/support/gguf_writer.hpp), exported by `ortformers export` as f32, int8
# and int4 (MatMulNBits), then:
#  1. cross-check: greedy ids of ortformers (f32 ONNX) and llama.cpp (F32 GGUF, F32 KV cache) for 5 prompts (STS-B
#     sentences, Llama-2 tokenizer, BOS first) must agree on the first 32 new tokens (two independent
#     implementations of the same weights); the run stops when they do not;
#  2. speed, 2 threads, batch 1, 128-token prompt, 128 new tokens: `ortformers bench text-generation` on each ONNX,
#     llama.cpp (node-llama-cpp 3.21.1, bench/llama_cpp, its prebuilt CPU binary) on each GGUF, transformers.js 4.3.2
#     (bench/transformersjs-server) on the same ONNX files; one table with the ratios.
# Env: BUILD (build), WORK ($BUILD/llama-bench: the model files, ~2.5 GB, kept between runs), BENCH_THREADS (2),
# ROUNDS (3), ONLY (int4,int8,f32: the precisions to time; also int8_block), LONG_POSITION (1000: ms/token there vs at 10),
# EXPORT_FLAGS (e.g. --optimize; into onnx-<precision><flags> folders), SKIP_TJS=1, ORTFORMERS_FIXTURES.
# Each result line is printed as soon as it is measured, the table at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
WORK="${WORK:-$BUILD/llama-bench}"
THREADS="${BENCH_THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
ONLY="${ONLY:-int4,int8,f32}"
LONG_POSITION="${LONG_POSITION:-1000}"
EXPORT_FLAGS="${EXPORT_FLAGS:-}"
SUF="$(printf %s "$EXPORT_FLAGS" | tr -d " " | sed "s/--/-/g")"  # folder suffix of the exports
FIXTURES="${ORTFORMERS_FIXTURES:-$ROOT/../shared/fixtures}"
STSB="${STSB:-$ROOT/../shared/data/stsb/stsb-en-test.csv}"
CLI="$BUILD/ortformers"
LCPP="$ROOT/bench/llama_cpp"
TJS="$ROOT/bench/transformersjs-server"
log() { printf '[llama_cpp_bench] %s\n' "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

for t in ortformers_cli bench_llama_checkpoint bench_causal_lm; do
  cmake --build "$BUILD" --target "$t" >&2
done
[[ -d "$LCPP/node_modules/node-llama-cpp" ]] || (cd "$LCPP" && npm ci --ignore-scripts --no-audit --no-fund >&2)
[[ -d "$TJS/node_modules/@huggingface/transformers" ]] || (cd "$TJS" && npm ci --ignore-scripts --no-audit --no-fund >&2)

mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
if [[ ! -f "$WORK/gguf/model-q4_0.gguf" ]]; then
  log "writing the checkpoint and the GGUF files into $WORK"
  "$BUILD/bench_llama_checkpoint" "$WORK" "$FIXTURES/vocab/llama-2/tokenizer.model" >&2
fi
# int8_block (MatMulNBits 8-bit, block 32: the Q8_0 scheme) is timed against Q8_0 too, when ONLY names it.
declare -A QUANT=([f32]="" [int8]="--quantize int8" [int8_block]="--quantize int8_block" [int4]="--quantize int4")
declare -A GGUF=([f32]=f32 [int8]=q8_0 [int8_block]=q8_0 [int4]=q4_0)
declare -A TJS_DTYPE=([f32]=fp32 [int8]=q8 [int8_block]=q8 [int4]=q4)
declare -A TJS_FILE=([f32]=model.onnx [int8]=model_quantized.onnx [int8_block]=model_quantized.onnx [int4]=model_q4.onnx)
for p in $(printf '%s\n' f32 ${ONLY//,/ } | awk '!seen[$0]++'); do
  [[ -v "QUANT[$p]" ]] || { log "unknown precision $p in ONLY (f32, int8, int8_block, int4)"; exit 2; }
  if [[ ! -f "$WORK/onnx-$p$SUF/model.onnx" ]]; then
    log "exporting $p"
    # shellcheck disable=SC2086
    "$CLI" export --model "$WORK/hf" --task text-generation-with-past ${QUANT[$p]} $EXPORT_FLAGS --quiet "$WORK/onnx-$p$SUF" >&2
  fi
  # transformers.js's layout: the folder's files at the top, the graph under onnx/ with its dtype's name (links).
  mkdir -p "$WORK/tjs$SUF/$p/onnx"
  for f in "$WORK/onnx-$p$SUF"/*; do
    case "$f" in
      *.onnx) ln -sfn "$(realpath "$f")" "$WORK/tjs$SUF/$p/onnx/${TJS_FILE[$p]}" ;;
      *) ln -sfn "$(realpath "$f")" "$WORK/tjs$SUF/$p/" ;;
    esac
  done
done

# Prompts: 5 STS-B sentences, and a 128-token prompt (STS-B sentences joined), Llama-2 tokenizer with BOS.
tok() { "$CLI" tokenize --tokenizer "$WORK/hf" "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["ids"]))'; }
PROMPTS="["
for i in 1 2 3 4 5; do
  s="$(sed -n "${i}p" "$STSB" | cut -d, -f1)"
  PROMPTS+="$(tok "$s")"; [[ $i -lt 5 ]] && PROMPTS+=","
done
PROMPTS+="]"
LONG="$(tok "$(head -40 "$STSB" | cut -d, -f1 | tr '\n' ' ')" | python3 -c 'import json,sys; v=json.load(sys.stdin); assert len(v)>=128, len(v); print(json.dumps(v[:128]))')"

log "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, threads $THREADS, date $(date -u +%F), load $(load)"
log "cross-check: greedy, 32 new tokens, 5 prompts, f32 ONNX vs F32 GGUF (F32 KV cache)"
ours="$("$BUILD/bench_causal_lm" greedy "$WORK/onnx-f32$SUF" "$PROMPTS" 32 "$THREADS")"
theirs="$(cd "$LCPP" && node llama_cpp.mjs greedy "$(realpath "$WORK/gguf/model-f32.gguf")" "$PROMPTS" 32 "$THREADS" F32)"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = (json.loads(x)["tokens"] for x in sys.argv[1:3])
bad = 0
for i, (x, y) in enumerate(zip(a, b)):
    same = next((k for k in range(min(len(x), len(y))) if x[k] != y[k]), 32)
    print(f"prompt {i}: {'agree' if same == 32 else f'first difference at new token {same}'}: {x[:12]}...", file=sys.stderr)
    bad += same != 32
print(f"cross-check: {5 - bad}/5 prompts agree on 32 greedy tokens (ortformers f32 ONNX vs llama.cpp F32 GGUF)", file=sys.stderr)
sys.exit(1 if bad else 0)
PY

lines=()
add() { lines+=("$1"); printf '%s\n' "$1"; }
for p in ${ONLY//,/ }; do
  log "$p: ortformers (load $(load))"
  add "$("$CLI" bench text-generation --model "$WORK/onnx-$p$SUF" --threads "$THREADS" --rounds "$ROUNDS" --long-position "$LONG_POSITION" | sed "s/^{/{\"engine\":\"ortformers\",\"precision\":\"$p\",\"load\":\"$(load)\",/")"
  log "$p: llama.cpp ${GGUF[$p]} (load $(load))"
  add "$(cd "$LCPP" && node llama_cpp.mjs bench "$(realpath "$WORK/gguf/model-${GGUF[$p]}.gguf")" "$LONG" 128 "$THREADS" "$ROUNDS" "$LONG_POSITION" | sed "s/^{/{\"precision\":\"$p\",\"load\":\"$(load)\",/")"
  if [[ -z "${SKIP_TJS:-}" ]]; then
    log "$p: transformers.js ${TJS_DTYPE[$p]} (load $(load))"
    add "$(cd "$TJS" && node causal_lm.mjs "$WORK/tjs$SUF/" "$p" "${TJS_DTYPE[$p]}" "$LONG" 128 "$THREADS" "$ROUNDS" 2>/dev/null | sed "s/^{/{\"precision\":\"$p\",\"load\":\"$(load)\",/")"
  fi
done
python3 - "${lines[@]}" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1:] if l.strip()]
def get(p, e): return next((r for r in rows if r["precision"] == p and r["engine"] == e), None)
print("| precision | engine | prompt tok/s | decode tok/s | ms/token @10 / @long | peak RSS MB | load |")
print("|---|---|---|---|---|---|---|")
for p in dict.fromkeys(r["precision"] for r in rows):
    for e in ("ortformers", "llama.cpp", "transformers.js"):
        r = get(p, e)
        if not r: continue
        ms = (f"{r['ms_per_token_at_10']:.1f} / {r['ms_per_token_at_long']:.1f}"
              if "ms_per_token_at_10" in r else "")
        print(f"| {p} | {e} | {r['prompt_tokens_per_s']:.0f} | {r['decode_tokens_per_s']:.1f} | {ms} | {r['peak_rss_mb']:.0f} | {r['load']} |")
for p in dict.fromkeys(r["precision"] for r in rows):
    o, l, t = get(p, "ortformers"), get(p, "llama.cpp"), get(p, "transformers.js")
    s = f"{p}: decode ours/llama.cpp {o['decode_tokens_per_s'] / l['decode_tokens_per_s']:.2f}x, prompt {o['prompt_tokens_per_s'] / l['prompt_tokens_per_s']:.2f}x"
    if t: s += f"; ours/transformers.js decode {o['decode_tokens_per_s'] / t['decode_tokens_per_s']:.2f}x, prompt {o['prompt_tokens_per_s'] / t['prompt_tokens_per_s']:.2f}x"
    if "long_over_10" in o: s += f"; @{o['long_position']}/@10 {o['long_over_10']:.2f}"
    s += (f"; batch {o['decode_batch']} decode {o['batch_decode_tokens_per_s']:.1f} tok/s;"
          f" generate() over raw session {100 * o['generate_overhead_over_raw']:+.1f}%; roofline {o['roofline_tokens_per_s']:.1f} tok/s"
          f" ({o['weight_bytes_per_token'] / 1e6:.0f} MB/token at {o['copy_bandwidth_gb_per_s']:.1f} GB/s copy): {100 * o['decode_over_roofline']:.0f}%")
    print(s)
PY
