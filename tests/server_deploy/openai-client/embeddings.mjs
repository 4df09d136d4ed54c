// The official OpenAI Node SDK (npm `openai`, pinned in package-lock.json) against `ortformers serve`'s
// /v1/embeddings. Driven by tests/server_deploy/openai_sdk_test.cpp:
//   node embeddings.mjs BASE_URL INPUTS.json
// INPUTS.json is a JSON list of strings. Prints one JSON object to stdout:
//   {"float": [[...], ...], "base64": [[...], ...], "default": [[...], ...], "model": ..., "prompt_tokens": N}
// "float": encoding_format "float"; "base64": encoding_format "base64", the strings decoded here as little-endian
// float32; "default": no encoding_format, so the SDK asks for base64 and decodes it itself.
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const [baseURL, inputsFile] = process.argv.slice(2);
if (!baseURL || !inputsFile) {
  console.error('usage: node embeddings.mjs BASE_URL INPUTS.json');
  process.exit(2);
}
const input = JSON.parse(readFileSync(inputsFile, 'utf8'));
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'unused', maxRetries: 0, timeout: 20000 });
const model = process.env.OPENAI_MODEL || 'ortformers';

function ordered(response) {
  const rows = [...response.data].sort((a, b) => a.index - b.index);
  if (rows.length !== input.length) throw new Error(`expected ${input.length} embeddings, got ${rows.length}`);
  return rows;
}

function decodeBase64(s) {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`base64 embedding of ${bytes.length} bytes is not float32`);
  const out = [];
  for (let i = 0; i < bytes.length; i += 4) out.push(bytes.readFloatLE(i));
  return out;
}

const asFloat = await client.embeddings.create({ model, input, encoding_format: 'float' });
const asBase64 = await client.embeddings.create({ model, input, encoding_format: 'base64' });
const asDefault = await client.embeddings.create({ model, input });
for (const r of [asFloat, asBase64, asDefault]) {
  if (r.object !== 'list') throw new Error(`object is ${JSON.stringify(r.object)}, not "list"`);
}
console.log(JSON.stringify({
  float: ordered(asFloat).map((d) => d.embedding),
  base64: ordered(asBase64).map((d) => {
    if (typeof d.embedding !== 'string') throw new Error('encoding_format base64 did not return a string');
    return decodeBase64(d.embedding);
  }),
  default: ordered(asDefault).map((d) => Array.from(d.embedding)),
  model: asFloat.model,
  prompt_tokens: asFloat.usage.prompt_tokens,
}));
