// The official OpenAI Node SDK (npm `openai`, pinned and installed in tests/server_deploy/openai-client) against
// `ortformers serve`'s /v1/audio/transcriptions on a Whisper model. Driven by
// tests/server/generation_test.cpp (GenerativeServer.OpenAiNodeSdkChatAndCompletions):
//   node transcription.mjs SDK_DIR BASE_URL MODEL AUDIO_FILE
// Prints one JSON object: the transcription as json (with language), as text, streamed (the deltas joined and the
// done event's text) and the error the SDK raises for an unsupported response_format.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const [sdkDir, baseURL, model, audio] = process.argv.slice(2);
if (!sdkDir || !baseURL || !model || !audio) {
  console.error('usage: node transcription.mjs SDK_DIR BASE_URL MODEL AUDIO_FILE');
  process.exit(2);
}
const sdk = await import(pathToFileURL(join(sdkDir, 'index.mjs')).href);
const OpenAI = sdk.default;
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 20000 });
const bytes = readFileSync(audio);
const file = () => sdk.toFile(bytes, 'speech.wav', { type: 'audio/wav' });

const json = await client.audio.transcriptions.create({ file: await file(), model, language: 'en', temperature: 0 });
const text = await client.audio.transcriptions.create({ file: await file(), model, response_format: 'text' });
const stream = await client.audio.transcriptions.create({ file: await file(), model, stream: true });
let streamed = '';
let done = null;
const types = [];
for await (const event of stream) {
  if (!types.includes(event.type)) types.push(event.type);
  if (event.type === 'transcript.text.delta') streamed += event.delta;
  if (event.type === 'transcript.text.done') done = event.text;
}
let error = null;
try {
  await client.audio.transcriptions.create({ file: await file(), model, response_format: 'srt' });
} catch (e) {
  error = { status: e.status ?? null, message: String(e.message) };
}
console.log(JSON.stringify({ json: json.text, text, streamed, done, types, error }));
