// The workloads of bench/tokenizers.cpp through the Rust tokenizers library (0.22.2, via the N-API binding
// @anush008/tokenizers@0.6.0), single-threaded, so that a ratio can be reported.
//   cd build-tok/node && npm install @anush008/tokenizers@0.6.0
//   TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 UV_THREADPOOL_SIZE=1 \
//     NODE_PATH=build-tok/node/node_modules node bench/tokenizers_rust.js [FIXTURES_DIR]
// Prints, per tokenizer and workload, CPU and wall ms per iteration, tokens/s and MB/s. "document" encodes the 5,000-word
// document (encode); "sentences1000" encodes the 1,000 short sentences with encodeBatch (one call, one thread) and,
// for reference, with 1,000 sequential awaited encode() calls (includes the binding's per-call async overhead).
const path = require('path');
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

const fixtures = process.argv[2] || process.env.ORTFORMERS_FIXTURES || path.join(__dirname, '..', '..', 'shared', 'fixtures');
const corpus = JSON.parse(fs.readFileSync(path.join(fixtures, 'tokenizers', 'corpus.json'), 'utf8'));
const documentText = corpus.documents[0].text;
const shorts = corpus.strings.map((s) => s.text).filter((t) => Buffer.byteLength(t, 'utf8') < 200);
const sentences = [];
for (let i = 0; sentences.length < 1000; ++i) sentences.push(shorts[i % shorts.length]);
const sentenceBytes = sentences.reduce((a, s) => a + Buffer.byteLength(s, 'utf8'), 0);
const docBytes = Buffer.byteLength(documentText, 'utf8');

// Rates use the process CPU time (user + system, all threads), like Google Benchmark's default, so that a loaded
// machine does not distort the ratio; wall time is reported too.
async function time(fn, minMs = 2000) {
  await fn();  // warm-up
  let iters = 0, tokens = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < minMs || iters < 3) {
    tokens += await fn();
    ++iters;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { msPerIter: cpuMs / iters, wallMsPerIter: elapsed / iters, tokensPerSec: (tokens / cpuMs) * 1000, iters };
}

(async () => {
  for (const name of ['bert-base-uncased', 'roberta-base', 'gpt2', 't5-small']) {
    const tok = Tokenizer.fromFile(path.join(fixtures, 'tokenizers', name, 'tokenizer.json'));
    const doc = await time(async () => (await tok.encode(documentText, null, { addSpecialTokens: true })).getIds().length);
    const batch = await time(async () => {
      const encs = await tok.encodeBatch(sentences, { addSpecialTokens: true });
      return encs.reduce((a, e) => a + e.getIds().length, 0);
    });
    const seq = await time(async () => {
      let n = 0;
      for (const s of sentences) n += (await tok.encode(s, null, { addSpecialTokens: true })).getIds().length;
      return n;
    });
    const mbs = (bytes, r) => (bytes / (r.msPerIter / 1000)) / 1e6;
    console.log(JSON.stringify({ tokenizer: name, workload: 'document', cpu_ms: +doc.msPerIter.toFixed(3), wall_ms: +doc.wallMsPerIter.toFixed(3),
                                 tokens_per_s: Math.round(doc.tokensPerSec), MB_per_s: +mbs(docBytes, doc).toFixed(2) }));
    console.log(JSON.stringify({ tokenizer: name, workload: 'sentences1000/encodeBatch', cpu_ms: +batch.msPerIter.toFixed(3), wall_ms: +batch.wallMsPerIter.toFixed(3),
                                 tokens_per_s: Math.round(batch.tokensPerSec), MB_per_s: +mbs(sentenceBytes, batch).toFixed(2) }));
    console.log(JSON.stringify({ tokenizer: name, workload: 'sentences1000/sequential-encode', cpu_ms: +seq.msPerIter.toFixed(3), wall_ms: +seq.wallMsPerIter.toFixed(3),
                                 tokens_per_s: Math.round(seq.tokensPerSec), MB_per_s: +mbs(sentenceBytes, seq).toFixed(2) }));
  }
})();
