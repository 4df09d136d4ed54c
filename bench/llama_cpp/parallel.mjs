// llama.cpp's parallel sequences on one context (node-llama-cpp 3.21.1, bench/llama_cpp/package.json): the anchor of
// bench/generation_server_bench.sh for continuous batching (issue 22; not a test).
//   node parallel.mjs GGUF PROMPTS_JSON NEW THREADS
// PROMPTS_JSON: one array of token ids per sequence (all run at once, one sequence each, greedy, NEW tokens each).
// llama.cpp batches the sequences of one context into each decode step, as a continuous-batching server does.
// Prints one JSON line: sequences, generated tokens, seconds, tokens/s, time to first token and inter-token
// latency p50/p99 (ms).
import { getLlama } from 'node-llama-cpp';

const [gguf, input, newTokens, threads] = process.argv.slice(2);
const prompts = JSON.parse(input);
const N = Number(newTokens), T = Number(threads);
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads: T });
const model = await llama.loadModel({ modelPath: gguf, useMmap: true, gpuLayers: 0 });
const longest = Math.max(...prompts.map((p) => p.length));
const context = await model.createContext({
  contextSize: prompts.length * (longest + N + 16), batchSize: 512, threads: { ideal: T, min: T },
  sequences: prompts.length, flashAttention: false,
});
const now = () => Number(process.hrtime.bigint()) / 1e6;
const pct = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const pos = p * (s.length - 1), lo = Math.floor(pos), hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
};

async function run(sequence, prompt, t0) {
  const times = [];
  for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
    times.push(now() - t0);
    if (times.length >= N) break;
  }
  return times;
}

// warm-up: one short generation on one sequence
{
  const s = context.getSequence();
  await run(s, prompts[0].slice(0, 8), now());
  await s.clearHistory();
  s.dispose();
}
const sequences = prompts.map(() => context.getSequence());
const t0 = now();
const all = await Promise.all(sequences.map((s, k) => run(s, prompts[k], t0)));
const seconds = (now() - t0) / 1000;
const ttft = all.map((t) => t[0]);
const itl = all.flatMap((t) => t.slice(1).map((x, i) => x - t[i]));
const tokens = all.reduce((a, t) => a + t.length, 0);
console.log(JSON.stringify({ engine: 'llama.cpp', model: gguf.split('/').pop(), threads: T, sequences: prompts.length,
  new_tokens: N, generated_tokens: tokens, seconds, tokens_per_s: tokens / seconds, ttft_ms_p50: pct(ttft, 0.5),
  ttft_ms_p99: pct(ttft, 0.99), itl_ms_p50: pct(itl, 0.5), itl_ms_p99: pct(itl, 0.99) }));
