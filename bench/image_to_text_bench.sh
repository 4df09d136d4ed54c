#!/usr/bin/env bash
# Image-to-text captions per second (issue 24), one run: ortformers (bench_image_to_text) vs transformers.js (pinned
# in bench/transformersjs-server) on the same optimum ONNX files of the ViT + GPT-2 fixture, greedy, one image
# per call over every image of media/images; Pix2Struct for ortformers alone (transformers.js has no Pix2Struct).
# Env: BUILD (default build), BENCH_THREADS (2), ROUNDS (5), MAX_NEW_TOKENS (20), ORTFORMERS_FIXTURES.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
THREADS="${BENCH_THREADS:-2}"
ROUNDS="${ROUNDS:-5}"
NEW="${MAX_NEW_TOKENS:-20}"
FIXTURES="${ORTFORMERS_FIXTURES:-$ROOT/../shared/fixtures}"
TJS="$ROOT/bench/transformersjs-server"
log() { printf '[image_to_text_bench] %s\n' "$*" >&2; }

[[ -x "$BUILD/bench_image_to_text" ]] || cmake --build "$BUILD" --target bench_image_to_text
[[ -d "$TJS/node_modules/@huggingface/transformers" ]] || (cd "$TJS" && npm ci --ignore-scripts --no-audit --no-fund >&2)

# transformers.js's layout: the folder's files at the top, the graphs under onnx/ (symbolic links, nothing copied).
LAYOUT="$(mktemp -d)"
trap 'rm -rf "$LAYOUT"' EXIT
SRC="$FIXTURES/onnx/vit-gpt2-tiny"
mkdir -p "$LAYOUT/vit-gpt2-tiny/onnx"
for f in "$SRC"/*; do
  case "$f" in *.onnx) ln -s "$f" "$LAYOUT/vit-gpt2-tiny/onnx/" ;; *) ln -s "$f" "$LAYOUT/vit-gpt2-tiny/" ;; esac
done

log "CPU: $(lscpu | sed -n 's/^Model name: *//p'), load: $(cut -d' ' -f1-3 /proc/loadavg), threads $THREADS"
ours="$(ORTFORMERS_FIXTURES="$FIXTURES" "$BUILD/bench_image_to_text" --rounds "$ROUNDS" --max-new-tokens "$NEW" \
  --threads "$THREADS" "$SRC" "$FIXTURES/onnx/pix2struct-tiny")"
theirs="$(cd "$TJS" && node caption.mjs "$LAYOUT/" vit-gpt2-tiny "$FIXTURES/media/images" "$ROUNDS" "$NEW" "$THREADS")"
echo "$ours"
echo "$theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines()]
tjs = json.loads(sys.argv[2])
vit = next(o for o in ours if o["model"] == "vit-gpt2-tiny")
print(f"vit-gpt2-tiny: ortformers {vit['captions_per_s']:.1f} captions/s, transformers.js {tjs['captions_per_s']:.1f} "
      f"captions/s: {vit['captions_per_s'] / tjs['captions_per_s']:.2f}x")
PY
