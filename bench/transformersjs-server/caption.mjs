// transformers.js (pinned in package.json) image-to-text on a model folder laid out as transformers.js expects
// (config + tokenizer + preprocessor files, onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx): every image
// captioned `rounds` times, greedy, one image per call. Prints one JSON line, as bench_image_to_text does.
//   node caption.mjs MODELS_ROOT MODEL_NAME IMAGES_DIR ROUNDS MAX_NEW_TOKENS THREADS
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, env } from '@huggingface/transformers';

const [root, name, imagesDir, rounds, maxNewTokens, threads] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = root;
const pipe = await pipeline('image-to-text', name, {
  dtype: 'fp32',
  session_options: { intraOpNumThreads: Number(threads), interOpNumThreads: 1 },
});
const images = readdirSync(imagesDir).filter((f) => f.endsWith('.png') || f.endsWith('.jpg')).sort().map((f) => join(imagesDir, f));
const kwargs = { max_new_tokens: Number(maxNewTokens) };
await pipe(images[0], kwargs);  // warm-up
let captions = 0;
const t0 = process.hrtime.bigint();
for (let r = 0; r < Number(rounds); ++r) {
  for (const img of images) {
    await pipe(img, kwargs);
    ++captions;
  }
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ engine: 'transformers.js', model: name, images: images.length, captions, seconds: s,
  captions_per_s: captions / s, ms_per_caption: (1000 * s) / captions }));
