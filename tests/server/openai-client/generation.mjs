// The official OpenAI Node SDK (npm `openai`, pinned and installed in tests/server_deploy/openai-client) against
// `ortformers serve`'s generation routes. Driven by tests/server/openai_sdk_generation_test.cpp:
//   node generation.mjs SDK_DIR BASE_URL MODEL
// Prints one JSON object: the chat completion (whole and streamed), the completion (whole and streamed) and the
// error the SDK raises for a bad role.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [sdkDir, baseURL, model] = process.argv.slice(2);
if (!sdkDir || !baseURL || !model) {
  console.error('usage: node generation.mjs SDK_DIR BASE_URL MODEL');
  process.exit(2);
}
const { default: OpenAI } = await import(pathToFileURL(join(sdkDir, 'index.mjs')).href);
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 20000 });
const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name a colour.' },
];

const chat = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
const chatStream = await client.chat.completions.create({
  model, messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let streamFinish = null;
let streamUsage = null;
let role = null;
for await (const chunk of chatStream) {
  if (chunk.choices.length) {
    const c = chunk.choices[0];
    if (c.delta.role && role === null) role = c.delta.role;
    streamed += c.delta.content ?? '';
    if (c.finish_reason) streamFinish = c.finish_reason;
  }
  if (chunk.usage) streamUsage = chunk.usage;
}

const prompt = 'Hello, my dog is cute and';
const completion = await client.completions.create({ model, prompt, max_tokens: 10, temperature: 0 });
const compStream = await client.completions.create({ model, prompt, max_tokens: 10, temperature: 0, stream: true });
let completionStreamed = '';
for await (const chunk of compStream) completionStreamed += chunk.choices[0]?.text ?? '';

let error = null;
try {
  await client.chat.completions.create({ model, messages: [{ role: 'wizard', content: 'x' }] });
} catch (e) {
  error = { status: e.status ?? null, message: String(e.message) };
}

console.log(JSON.stringify({
  chat: chat.choices[0].message.content,
  chat_role: chat.choices[0].message.role,
  chat_finish: chat.choices[0].finish_reason,
  chat_usage: chat.usage,
  streamed,
  stream_role: role,
  stream_finish: streamFinish,
  stream_usage: streamUsage,
  completion: completion.choices[0].text,
  completion_finish: completion.choices[0].finish_reason,
  completion_streamed: completionStreamed,
  error,
}));
