// The anchor of bench/server_bench.sh: a sentence-embedding server written the usual way with transformers.js —
// Node's http module and one @huggingface/transformers feature-extraction pipeline (mean pooling + normalize)
// called per request. Same route and body as TEI / `ortformers serve`: POST /embed {"inputs": "text" | ["text", ...]}
// answers [[float, ...], ...]; GET /health answers 200 once the model is loaded.
//   node server.mjs MODEL_ROOT MODEL_NAME PORT
// MODEL_ROOT/MODEL_NAME is in transformers.js's layout (onnx/model.onnx, config.json, tokenizer.json,
// tokenizer_config.json; `bench_server prepare` writes it). Nothing is downloaded (env.allowRemoteModels = false).
import http from 'node:http';
import { env, pipeline } from '@huggingface/transformers';

const [root, name, port] = process.argv.slice(2);
if (!root || !name || !port) {
  console.error('usage: node server.mjs MODEL_ROOT MODEL_NAME PORT');
  process.exit(2);
}
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = root;
const extractor = await pipeline('feature-extraction', name, { dtype: 'fp32' });

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return send(res, 200, {});
  if (req.method !== 'POST' || req.url !== '/embed') return send(res, 404, { error: 'not found' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const { inputs } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const output = await extractor(inputs, { pooling: 'mean', normalize: true });
      send(res, 200, output.tolist());
    } catch (e) {
      send(res, 422, { error: String(e && e.message ? e.message : e), error_type: 'Validation' });
    }
  });
});
server.keepAliveTimeout = 75000;
server.listen(Number(port), '127.0.0.1', () => console.error(`transformers.js server on 127.0.0.1:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
