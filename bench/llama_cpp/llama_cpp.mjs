// llama.cpp (node-llama-cpp 3.21.1's prebuilt CPU binary, pinned in package.json) on the benchmark GGUF files of
// bench/llama_cpp_bench.sh (not a test). Token ids in, token ids out: the prompts are the same ids ortformers gets.
//   node llama_cpp.mjs greedy GGUF PROMPTS_JSON NEW THREADS [KV_TYPE]  greedy continuations of each prompt (ids)
//   node llama_cpp.mjs bench GGUF PROMPT_JSON NEW THREADS ROUNDS [LONG]  prompt tokens/s, decode tokens/s,
//                                                           ms/token at position ~10 and ~LONG (1000), peak RSS
// Prints one JSON line. KV_TYPE: the cache type (F32 for the cross-check; llama.cpp's default F16 otherwise).
import { getLlama } from 'node-llama-cpp';

const [mode, gguf, input, newTokens, threads, extra, longPosition] = process.argv.slice(2);
const N = Number(newTokens), T = Number(threads);
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads: T });
const model = await llama.loadModel({ modelPath: gguf, useMmap: true, gpuLayers: 0 });
const now = () => Number(process.hrtime.bigint()) / 1e9;

async function makeContext(kvType, sequences = 1) {
  const options = { contextSize: 2048, batchSize: 512, threads: { ideal: T, min: T }, sequences, flashAttention: false };
  if (kvType) Object.assign(options, { experimentalKvCacheKeyType: kvType, experimentalKvCacheValueType: kvType });
  return model.createContext(options);
}

// Greedy continuation of `prompt` (ids); returns { tokens, times } (times: seconds at each new token).
async function greedy(sequence, prompt, n) {
  const tokens = [], times = [];
  const t0 = now();
  for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
    tokens.push(token);
    times.push(now() - t0);
    if (tokens.length >= n) break;
  }
  return { tokens, times };
}

let result;
if (mode === 'greedy') {
  const context = await makeContext(extra || undefined);
  const sequence = context.getSequence();
  const out = [];
  for (const prompt of JSON.parse(input)) {
    await sequence.clearHistory();
    out.push((await greedy(sequence, prompt, N)).tokens);
  }
  result = { tokens: out };
} else if (mode === 'bench') {
  const rounds = Number(extra);
  const prompt = JSON.parse(input);
  const context = await makeContext();
  const sequence = context.getSequence();
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const pp = [], decode = [];
  for (let r = 0; r <= rounds; ++r) {  // round 0: warm-up
    await sequence.clearHistory();
    const t0 = now();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt);
    const t1 = now();
    await sequence.clearHistory();
    const { times } = await greedy(sequence, prompt, N + 1);
    // times[0]: the prompt + first token; decode = the N tokens after it
    if (r > 0) {
      pp.push(prompt.length / (t1 - t0));
      decode.push(N / (times[N] - times[0]));
    }
  }
  // ms/token near position 10 and LONG (0 = skip): a 2-token prompt then LONG + 10 greedy tokens, per-token times
  // around each (times[k] comes after feeding position k + 1).
  const long = Number(longPosition ?? 1000);
  result = { prompt_tokens: prompt.length, new_tokens: N, rounds, prompt_tokens_per_s: median(pp),
    decode_tokens_per_s: median(decode) };
  if (long > 0) {
    await sequence.clearHistory();
    const { times } = await greedy(sequence, prompt.slice(0, 2), long + 10);
    const at = (p) => 1000 * (times[p + 7] - times[p - 9]) / 16;
    Object.assign(result, { ms_per_token_at_10: at(10), ms_per_token_at_long: at(long), long_position: long });
  }
  result.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(JSON.stringify({ engine: 'llama.cpp', mode, model: gguf.split('/').pop(), threads: T, ...result }));
