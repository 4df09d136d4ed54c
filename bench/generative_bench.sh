#!/usr/bin/env bash
# Encoder-decoder generation, ortformers vs transformers.js 4.3.2 (bench/transformersjs-server, pinned) on the same
# optimum ONNX files of the fixtures, in one run (issue 20): Whisper (log-mel of a 30 s window of the 35 s clip +
# generate: real-time factor and tokens/s), T5 and BART (generate from the encoder's input_ids: tokens/s); greedy,
# max_new_tokens N, 2 intra-op threads each. model.generate() is compared (the T5 and Whisper fixture folders have no
# tokenizer.json, which transformers.js's tokenizers and pipelines need); the full ASR pipeline over the 35 s file
# is bench_whisper's (ortformers alone).
# Env: BUILD (default build), BENCH_THREADS (2), ROUNDS (5), MAX_NEW_TOKENS (32), ORTFORMERS_FIXTURES.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
THREADS="${BENCH_THREADS:-2}"
ROUNDS="${ROUNDS:-5}"
NEW="${MAX_NEW_TOKENS:-32}"
FIXTURES="${ORTFORMERS_FIXTURES:-$ROOT/../shared/fixtures}"
TJS="$ROOT/bench/transformersjs-server"
log() { printf '[generative_bench] %s\n' "$*" >&2; }

[[ -x "$BUILD/bench_generative" ]] || cmake --build "$BUILD" --target bench_generative
[[ -d "$TJS/node_modules/@huggingface/transformers" ]] || (cd "$TJS" && npm ci --ignore-scripts --no-audit --no-fund >&2)

# transformers.js's layout: the folder's files at the top, the graphs under onnx/ (symbolic links, nothing copied).
LAYOUT="$(mktemp -d)"
trap 'rm -rf "$LAYOUT"' EXIT
for name in whisper-tiny t5-tiny bart-tiny; do
  mkdir -p "$LAYOUT/$name/onnx"
  for f in "$FIXTURES/onnx/$name"/*; do
    case "$f" in *.onnx) ln -s "$f" "$LAYOUT/$name/onnx/" ;; *) ln -s "$f" "$LAYOUT/$name/" ;; esac
  done
done
WAV="$FIXTURES/media/audio/long_35s_16k_mono.wav"
ids() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["generate_inputs"]["input0"]["input_ids"]))' "$FIXTURES/reference/$1.json"; }

log "CPU: $(lscpu | sed -n 's/^Model name: *//p'), load: $(cut -d' ' -f1-3 /proc/loadavg), threads $THREADS, rounds $ROUNDS, max_new_tokens $NEW"
lines=()
run_pair() {  # mode name input: ours then transformers.js, alternating engines per model
  lines+=("$("$BUILD/bench_generative" "$1" "$FIXTURES/onnx/$2" "$3" "$ROUNDS" "$NEW" "$THREADS")")
  lines+=("$(cd "$TJS" && node generative.mjs "$1" "$LAYOUT/" "$2" "$3" "$ROUNDS" "$NEW" "$THREADS" 2>/dev/null)")
}
run_pair whisper whisper-tiny "$WAV"
run_pair seq2seq t5-tiny "$(ids t5-tiny)"
run_pair seq2seq bart-tiny "$(ids bart-tiny)"
printf '%s\n' "${lines[@]}"
python3 - "${lines[@]}" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1:] if l.strip()]
for model in dict.fromkeys(r["model"] for r in rows):
    ours = next(r for r in rows if r["model"] == model and r["engine"] == "ortformers")
    tjs = next(r for r in rows if r["model"] == model and r["engine"] == "transformers.js")
    extra = f", rtf {ours['rtf']:.4f} vs {tjs['rtf']:.4f}" if "rtf" in ours else ""
    print(f"{model}: ortformers {ours['tokens_per_s']:.1f} tokens/s, transformers.js {tjs['tokens_per_s']:.1f} tokens/s: "
          f"{ours['tokens_per_s'] / tjs['tokens_per_s']:.2f}x{extra} (ms per call {1000 * ours['seconds'] / ours['rounds']:.1f}"
          f" vs {1000 * tjs['seconds'] / tjs['rounds']:.1f})")
PY
