#!/usr/bin/env bash
# What --quantize int8 / int8_block / int4 / int4_asym cost in accuracy (issue 21; not a test), bench/quant_accuracy.cpp:
#  1. the benchmark Llama (bench/support/llama_checkpoint.hpp, random weights, Llama-2's tokenizer; written by
#     bench_llama_checkpoint as bench/llama_cpp_bench.sh does, and the same onnx-<precision>[-optimize] folders,
#     so the two scripts share $WORK) exported as f32 / int8 / int4 / int4_asym, plain and --optimize; every
#     sentence of the STS-B test split (../shared/data/stsb, both columns, BOS first) teacher-forced through all of
#     them: perplexity, ratio to f32, KL divergence from f32 (mean, p99), top-1 agreement, max |logit diff|;
#  1b. the anchor: llama.cpp's own Q8_0 / Q4_0 of the same weights against its F32 (the GGUF files of
#     bench/llama_cpp_bench.sh in $GGUF), the same measures over the same sentences and ids (bench/llama_cpp/kl.mjs,
#     node-llama-cpp 3.21.1; needs `npm ci` in bench/llama_cpp), and how often llama.cpp F32's argmax is ours;
#  2. the generative fixtures (gpt2-tiny, t5-tiny, bart-tiny plain; llama-tiny plain and --optimize) exported natively
#     and quantised: greedy generate() agreement with the f32 export over every greedy generate case of their
#     references (identical sequences, mean matching prefix), teacher-forced logit diff and argmax agreement.
# Env: BUILD (build), WORK ($BUILD/llama-bench), HF ($WORK/hf: the checkpoint, written when missing), BENCH_THREADS
# (2), BATCH (16), LIMIT (0 = every sentence), ONLY (the variants, default all ten; the first is the reference,
# f32), GGUF ($WORK/gguf: model-f32.gguf, model-q8_0.gguf, model-q4_0.gguf), SKIP_LLAMA_CPP=1, SKIP_FIXTURES=1,
# ORTFORMERS_FIXTURES, STSB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
WORK="${WORK:-$BUILD/llama-bench}"
THREADS="${BENCH_THREADS:-2}"
BATCH="${BATCH:-16}"
LIMIT="${LIMIT:-0}"
ONLY="${ONLY:-f32,f32-optimize,int8,int8-optimize,int8_block,int8_block-optimize,int4,int4-optimize,int4_asym,int4_asym-optimize}"
FIXTURES="${ORTFORMERS_FIXTURES:-$ROOT/../shared/fixtures}"
STSB="${STSB:-$ROOT/../shared/data/stsb/stsb-en-test.csv}"
CLI="$BUILD/ortformers"
log() { printf '[quant_accuracy_bench] %s\n' "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

for t in ortformers_cli bench_llama_checkpoint bench_quant_accuracy; do
  cmake --build "$BUILD" --target "$t" >&2
done
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
HF="${HF:-$WORK/hf}"
if [[ ! -f "$HF/config.json" ]]; then
  log "writing the checkpoint into $WORK"
  "$BUILD/bench_llama_checkpoint" "$WORK" "$FIXTURES/vocab/llama-2/tokenizer.model" >&2
  HF="$WORK/hf"
fi

log "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' '), threads $THREADS, date $(date -u '+%F %H:%M'), load $(load)"
args=()
IFS=, read -r -a variants <<<"$ONLY"
for v in "${variants[@]}"; do
  p="${v%-optimize}"
  flags=()
  [[ "$p" != f32 ]] && flags+=(--quantize "$p")
  [[ "$v" == *-optimize ]] && flags+=(--optimize)
  if [[ ! -f "$WORK/onnx-$v/model.onnx" ]]; then
    log "exporting $v (${flags[*]:-plain}), load $(load)"
    "$CLI" export --model "$HF" --task text-generation-with-past "${flags[@]}" --quiet "$WORK/onnx-$v" >&2
  fi
  args+=("$v=$WORK/onnx-$v")
done

GGUF="${GGUF:-$WORK/gguf}"
DUMP="$WORK/quant_accuracy_ids.jsonl"
log "perplexity: $STSB, batch $BATCH, limit $LIMIT, load $(load)"
QUANT_ACCURACY_DUMP="$DUMP" "$BUILD/bench_quant_accuracy" perplexity "$STSB" "$THREADS" "$BATCH" "$LIMIT" "${args[@]}"
log "done, load $(load)"

if [[ -z "${SKIP_LLAMA_CPP:-}" ]]; then
  if [[ -f "$GGUF/model-f32.gguf" && -d bench/llama_cpp/node_modules/node-llama-cpp ]]; then
    log "llama.cpp anchor: Q8_0 / Q4_0 vs F32 over the same ids ($DUMP), $GGUF, load $(load)"
    (cd bench/llama_cpp && node kl.mjs "$DUMP" "$THREADS" "$GGUF/model-f32.gguf" Q8_0="$GGUF/model-q8_0.gguf" \
      Q4_0="$GGUF/model-q4_0.gguf")
    log "done, load $(load)"
  else
    log "skipping the llama.cpp anchor: no $GGUF/model-f32.gguf (bench/llama_cpp_bench.sh writes it) or no npm ci"
  fi
fi

if [[ -z "${SKIP_FIXTURES:-}" ]]; then
  log "fixtures: $FIXTURES, load $(load)"
  "$BUILD/bench_quant_accuracy" fixtures "$FIXTURES" "$WORK/fixtures" "$THREADS"
  log "done, load $(load)"
fi
