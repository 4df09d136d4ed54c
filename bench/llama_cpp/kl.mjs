// llama.cpp's own quantizations of the benchmark Llama against its F32 file, measured as bench/quant_accuracy.cpp
// measures ours (issue 21; not a test): the anchor for what int8 / int4 cost on these random weights.
//   node kl.mjs DUMP THREADS REF.gguf NAME=QUANT.gguf...
// DUMP: the QUANT_ACCURACY_DUMP file of `bench_quant_accuracy perplexity` (one JSON line per STS-B sentence: the ids
// ortformers' tokenizer gave, BOS first, and per ortformers variant the argmax and log p(data's next token) at every
// position that predicts one). Every sentence is teacher-forced through each GGUF with the same ids (F32 KV cache
// everywhere, so only the weights differ), and the next-token distribution of every position is read in full:
// LlamaContextSequence.controlledEvaluate with generateNext.probabilities and the default greedy sampler (temperature
// 0: the sampler chain is greedy only, no top-k / top-p / penalties) returns the softmax of all n_vocab logits.
// For each quantization against REF: perplexity and its ratio, KL(REF || quant) (mean, median, p99, max; nats), top-1
// agreement, RMS of the change of p(next token). Cross-checks against ortformers (the dump's variants): how often
// REF's argmax equals each ortformers variant's argmax, and |log p(next token)| differences of REF vs ortformers'
// first variant (the f32 export). Prints one JSON line per quantization and per cross-check, then Markdown tables.
import { readFileSync } from 'node:fs';
import { getLlama } from 'node-llama-cpp';

const [dumpPath, threads, refPath, ...rest] = process.argv.slice(2);
if (!rest.length) throw new Error('usage: node kl.mjs DUMP THREADS REF.gguf NAME=QUANT.gguf...');
const T = Number(threads);
const sentences = readFileSync(dumpPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const oursNames = Object.keys(sentences[0].argmax);
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads: T });
const now = () => Number(process.hrtime.bigint()) / 1e9;

async function open(name, path) {
  const model = await llama.loadModel({ modelPath: path, useMmap: true, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 512, batchSize: 512, threads: { ideal: T, min: T },
    sequences: 1, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
  return { name, path, sequence: context.getSequence(), seconds: 0, nll: 0, positions: 0, top1: 0, dp2: 0,
    kl: [], zeroQ: 0 };
}
const ref = await open('F32', refPath);
const quants = [];
for (const a of rest) {
  const eq = a.indexOf('=');
  quants.push(await open(a.slice(0, eq), a.slice(eq + 1)));
}

// Dense next-token distributions (Float64Array of n_vocab probabilities) of every position but the last.
async function distributions(v, ids) {
  await v.sequence.clearHistory();
  const t0 = now();
  const out = await v.sequence.controlledEvaluate(
    ids.map((t, i) => (i + 1 < ids.length ? [t, { generateNext: { probabilities: true } }] : t)));
  v.seconds += now() - t0;
  const dists = [];
  for (let i = 0; i + 1 < ids.length; ++i) {
    const probs = out[i]?.next?.probabilities;
    if (!probs) throw new Error(`${v.name}: no probabilities at position ${i}`);
    const p = new Float64Array(probs.size);
    let top = -1;
    for (const [token, prob] of probs) {
      if (top < 0) top = token;  // the map is sorted by probability, highest first
      p[token] = prob;
    }
    dists.push({ p, top });
  }
  return dists;
}

const TINY = 1e-45;  // the smallest float32; a probability that underflowed to 0 (counted in zero_q)
const cross = Object.fromEntries(oursNames.map((n) => [n, 0]));
let refPositions = 0, logpDiffSum = 0, logpDiffMax = 0, refEntropy = 0;
const t0 = now();
for (const [s, sentence] of sentences.entries()) {
  const ids = sentence.ids;
  if (ids.length < 2) continue;
  const r = await distributions(ref, ids);
  const qs = [];
  for (const q of quants) qs.push(await distributions(q, ids));
  for (let i = 0; i + 1 < ids.length; ++i) {
    const target = ids[i + 1];
    const { p, top } = r[i];
    const logP = p.map((x) => (x > 0 ? Math.log(x) : 0));
    ++refPositions;
    ref.nll -= Math.log(Math.max(p[target], TINY));
    for (let k = 0; k < p.length; ++k) refEntropy -= p[k] * logP[k];
    for (const n of oursNames) cross[n] += sentence.argmax[n][i] === top ? 1 : 0;
    const d = Math.abs(Math.log(Math.max(p[target], TINY)) - sentence.logp[oursNames[0]][i]);
    logpDiffSum += d;
    logpDiffMax = Math.max(logpDiffMax, d);
    for (const [j, v] of quants.entries()) {
      const { p: q, top: qTop } = qs[j][i];
      let kl = 0;
      for (let k = 0; k < p.length; ++k) {
        if (p[k] <= 0) continue;
        if (q[k] <= 0) ++v.zeroQ;
        kl += p[k] * (logP[k] - Math.log(Math.max(q[k], TINY)));
      }
      v.kl.push(Math.max(0, kl));
      v.nll -= Math.log(Math.max(q[target], TINY));
      ++v.positions;
      v.top1 += qTop === top ? 1 : 0;
      v.dp2 += (q[target] - p[target]) ** 2;
    }
  }
  if (s % 50 === 0) console.error(`[kl.mjs] ${s + 1}/${sentences.length} sentences, ${(now() - t0).toFixed(0)} s`);
}

const quantile = (values, q) => {
  const v = [...values].sort((a, b) => a - b);
  const pos = q * (v.length - 1), lo = Math.floor(pos), hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
};
const refPpl = Math.exp(ref.nll / refPositions);
const tokens = sentences.reduce((a, s) => a + s.ids.length, 0);
const rows = [{ variant: 'F32', model: refPath.split('/').pop(), perplexity: refPpl, perplexity_ratio: 1, kl_mean: 0,
  kl_median: 0, kl_p99: 0, kl_max: 0, top1_agreement: 1, rms_delta_p: 0, tokens_per_s: tokens / ref.seconds }];
for (const v of quants) {
  const ppl = Math.exp(v.nll / v.positions);
  rows.push({ variant: v.name, model: v.path.split('/').pop(), perplexity: ppl, perplexity_ratio: ppl / refPpl,
    kl_mean: v.kl.reduce((a, b) => a + b, 0) / v.positions, kl_median: quantile(v.kl, 0.5),
    kl_p99: quantile(v.kl, 0.99), kl_max: quantile(v.kl, 1), top1_agreement: v.top1 / v.positions,
    rms_delta_p: Math.sqrt(v.dp2 / v.positions), zero_q: v.zeroQ, tokens_per_s: tokens / v.seconds });
}
const common = { engine: 'llama.cpp', sentences: sentences.length, positions: refPositions, threads: T };
for (const row of rows) console.log(JSON.stringify({ ...common, ...row }));
const check = { ...common, cross_check: 'llama.cpp F32 vs ortformers',
  argmax_agreement_with: Object.fromEntries(oursNames.map((n) => [n, cross[n] / refPositions])),
  logp_next_token_mean_abs_diff_vs: oursNames[0], logp_next_token_mean_abs_diff: logpDiffSum / refPositions,
  logp_next_token_max_abs_diff: logpDiffMax, f32_mean_entropy: refEntropy / refPositions };
console.log(JSON.stringify(check));

console.log(`\n| llama.cpp | perplexity | PPL / PPL(F32) | mean KL | p99 KL | top-1 = F32 | RMS dp | tok/s |`);
console.log('|---|---|---|---|---|---|---|---|');
const pct = (x) => (100 * x).toFixed(2);
for (const r of rows)
  console.log(`| ${r.variant} | ${r.perplexity.toPrecision(4)} | ${r.perplexity_ratio.toFixed(4)} | ` +
    `${r.kl_mean.toFixed(5)} | ${r.kl_p99.toFixed(4)} | ${pct(r.top1_agreement)} % | ${(100 * r.rms_delta_p).toFixed(4)} % | ` +
    `${r.tokens_per_s.toFixed(0)} |`);
console.log(`\nllama.cpp F32 argmax = ortformers ${oursNames.map((n) => `${n}: ${pct(cross[n] / refPositions)} %`)
  .join(', ')} of ${refPositions} positions; |log p(next token)| F32 vs ${oursNames[0]}: mean ` +
  `${check.logp_next_token_mean_abs_diff.toExponential(2)}, max ${logpDiffMax.toExponential(2)}; F32 mean entropy ` +
  `${check.f32_mean_entropy.toFixed(3)} nats`);
process.exit(0);
