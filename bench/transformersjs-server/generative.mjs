// transformers.js (pinned in package.json) encoder-decoder generation on model folders laid out as transformers.js
// expects (config + generation_config + preprocessor files at the top, onnx/encoder_model.onnx and
// onnx/decoder_model_merged.onnx), greedy, as bench/generative_bench.sh runs ortformers on the same ONNX files.
// model.generate() is called directly (the fixtures' T5 and Whisper folders have no tokenizer.json, which
// transformers.js's tokenizers and pipelines need). Prints one JSON line per run.
//   node generative.mjs whisper ROOT NAME WAV ROUNDS MAX_NEW_TOKENS THREADS   (the WAV's first 30 s window)
//   node generative.mjs seq2seq ROOT NAME IDS_JSON ROUNDS MAX_NEW_TOKENS THREADS
import { readFileSync } from 'node:fs';
import { AutoFeatureExtractor, AutoModelForSeq2SeqLM, AutoModelForSpeechSeq2Seq, Tensor, env } from '@huggingface/transformers';

const [mode, root, name, input, rounds, maxNewTokens, threads] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = root;
const options = { dtype: 'fp32', session_options: { intraOpNumThreads: Number(threads), interOpNumThreads: 1 } };
const kwargs = { max_new_tokens: Number(maxNewTokens), num_beams: 1, do_sample: false };

// 16-bit PCM mono WAV -> Float32Array in [-1, 1).
function readWav(path) {
  const b = readFileSync(path);
  let at = 12;
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === 'data') {
      const n = size / 2;
      const out = new Float32Array(n);
      for (let i = 0; i < n; ++i) out[i] = b.readInt16LE(at + 8 + 2 * i) / 32768;
      return out;
    }
    at += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

async function timed(fn) {
  await fn();  // warm-up
  let tokens = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < Number(rounds); ++r) tokens += await fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, tokens };
}

let result;
if (mode === 'whisper') {
  const fe = await AutoFeatureExtractor.from_pretrained(name);
  const model = await AutoModelForSpeechSeq2Seq.from_pretrained(name, options);
  const audio = readWav(input).slice(0, 30 * 16000);
  const { seconds, tokens } = await timed(async () => {
    const { input_features } = await fe(audio);
    const out = await model.generate({ inputs: input_features, ...kwargs });
    return out.dims[1];
  });
  result = { audio_seconds: 30 * Number(rounds), rtf: seconds / (30 * Number(rounds)) };
  Object.assign(result, { seconds, tokens });
} else if (mode === 'seq2seq') {
  const model = await AutoModelForSeq2SeqLM.from_pretrained(name, options);
  const ids = JSON.parse(input);
  const dims = [ids.length, ids[0].length];
  const inputs = new Tensor('int64', BigInt64Array.from(ids.flat().map(BigInt)), dims);
  const attention_mask = new Tensor('int64', new BigInt64Array(dims[0] * dims[1]).fill(1n), dims);
  const { seconds, tokens } = await timed(async () => {
    const out = await model.generate({ inputs, attention_mask, ...kwargs });
    return out.dims[0] * out.dims[1];
  });
  result = { seconds, tokens };
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(JSON.stringify({ engine: 'transformers.js', mode, model: name, rounds: Number(rounds), ...result,
  tokens_per_s: result.tokens / result.seconds }));
