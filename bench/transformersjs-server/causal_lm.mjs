// transformers.js (pinned in package.json) causal-LM generation on the ONNX files bench/llama_cpp_bench.sh exports,
// laid out as transformers.js expects (ROOT/NAME/config.json, onnx/model.onnx | model_quantized.onnx | model_q4.onnx
// for dtype fp32 | q8 | q4), greedy, token ids in (not a test). Prints one JSON line:
//   node causal_lm.mjs ROOT NAME DTYPE PROMPT_JSON NEW THREADS ROUNDS
// prompt tokens/s = prompt length / generate(max_new_tokens 1); decode tokens/s = (NEW - 1) / (generate(NEW) -
// generate(1)), medians over ROUNDS after a warm-up.
import { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';

const [root, name, dtype, promptJson, newTokens, threads, rounds] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = root;
const N = Number(newTokens);
const model = await AutoModelForCausalLM.from_pretrained(name, {
  dtype, session_options: { intraOpNumThreads: Number(threads), interOpNumThreads: 1 } });
const ids = JSON.parse(promptJson);
const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
const now = () => Number(process.hrtime.bigint()) / 1e9;
async function run(n) {
  const t0 = now();
  await model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false, num_beams: 1 });
  return now() - t0;
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
await run(N);  // warm-up
const pp = [], decode = [];
for (let r = 0; r < Number(rounds); ++r) {
  const one = await run(1), all = await run(N);
  pp.push(ids.length / one);
  decode.push((N - 1) / (all - one));
}
console.log(JSON.stringify({ engine: 'transformers.js', model: name, dtype, threads: Number(threads),
  prompt_tokens: ids.length, new_tokens: N, prompt_tokens_per_s: median(pp), decode_tokens_per_s: median(decode),
  peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
