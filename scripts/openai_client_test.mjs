// Drives a running rocmforge server with the official OpenAI Node client, unmodified: model
// listing, completions, chat completions and streamed chat. Exits non-zero on the first failure.
//   node scripts/openai_client_test.mjs --base-url http://127.0.0.1:8080/v1 [--api-key KEY]
//        [--client-dir tests/server/openai-client]   (where `npm ci` installed the package)
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = path.resolve(args['client-dir'] ?? path.join(repoRoot, 'tests/server/openai-client'));
// Load the package installed in clientDir (package.json pins the version).
const OpenAI = createRequire(path.join(clientDir, 'package.json'))('openai');

const client = new OpenAI({
  baseURL: args['base-url'] ?? 'http://127.0.0.1:8080/v1',
  apiKey: args['api-key'] ?? 'unused',
  maxRetries: 0,
  timeout: 60_000,
});

async function check(name, fn) {
  const start = Date.now();
  await fn();
  console.log(`ok   ${name} (${Date.now() - start} ms)`);
}

await check('models.list', async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  assert.ok(models.length >= 1, 'at least one model');
  assert.equal(models[0].object, 'model');
  assert.equal(typeof models[0].id, 'string');
});

const model = (await client.models.list()).data[0].id;

await check('completions.create', async () => {
  const r = await client.completions.create({ model, prompt: 'hello world', max_tokens: 5, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices.length, 1);
  assert.equal(typeof r.choices[0].text, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens <= 5);
});

await check('chat.completions.create', async () => {
  const r = await client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say hello.' },
    ],
    max_tokens: 6,
    temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

await check('chat.completions.create (stream)', async () => {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Tell me a story.' }],
    max_tokens: 8,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(chunks >= 2, 'several chunks');
  assert.ok(['stop', 'length'].includes(finish));
  assert.ok(usage && usage.completion_tokens >= 0 && usage.completion_tokens <= 8);
  assert.equal(typeof text, 'string');
});

await check('errors surface as APIError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model, messages: 'not a list' }),
    (e) => e instanceof OpenAI.APIError && e.status === 400 && typeof e.message === 'string',
  );
});

console.log('all OpenAI client checks passed');
