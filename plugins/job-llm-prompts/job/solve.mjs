#!/usr/bin/env node
// horde llm-prompts job, STAND-IN SOLVER: answers every prompt of a series deterministically from
// the seed, the way the real prompt-solver image does with a seeded LLM (greedy-equivalent
// decoding), but with a tiny word generator instead of a model, so the devnet and the tests run
// without a GPU or model weights. Point the generator's `image` at a real solver for production.
//
//   node solve.mjs [--temperature=0.5] [--top-p=0.8] [--max-tokens=256] --seed <seed> /volume/<series>.txt
//   node solve.mjs [--temperature=…] [--top-p=…] [--max-tokens=…] --server /volume/<series>.txt
//
// Input:  the prompts file, one prompt per line.
// Output: $HORDE_OUTPUT_DIR/<series>.json (default /output), a JSON object prompt → answer.
//
// `--server` is the streaming mode (a streaming job: the client reaches it through the executor's
// mTLS proxy): an HTTP server on $HORDE_STREAMING_PORT (8000 in a container) with
//   GET  /health       200 "OK" once it can take work
//   POST /execute-job  {"seed": "<seed>"}: answers the prompts with that seed, writes the output
//                      file as above and replies with the sha-256 (hex) of that file
//   GET  /terminate    200 "OK", then the job ends (exit 0)
// as ComputeHorde's prompt solver's server mode, whose validator checks the hash against the
// uploaded answers.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

const WORDS = (
  'the a compute horde miner validator block chain weight stake hash proof job executor class ' +
  'answer prompt model token seed cycle epoch subnet network signal value reward score fast slow bright ' +
  'quiet river stone light shadow number letter story question reason method result simple careful ' +
  'because therefore while after before under over through across between within without'
).split(' ');

function option(args, name, fallback) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}` && i + 1 < args.length) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return fallback;
}

/** The stand-in "model": a word sequence drawn from sha-256 of the decoding settings and the prompt. */
export function answer(prompt, { seed, temperature, topP, maxTokens }) {
  const words = [];
  let block = createHash('sha256').update(`${seed}\n${temperature}\n${topP}\n${prompt}`).digest();
  const length = 8 + (block[0] % 24);
  for (let i = 0; words.length < Math.min(length, maxTokens); i++) {
    if (i > 0 && i % 31 === 0) block = createHash('sha256').update(block).digest();
    words.push(WORDS[block[1 + (i % 31)] % WORDS.length]);
  }
  return words.join(' ');
}

/** Answers every prompt of the file with `settings`; writes the output file; returns its bytes. */
async function solve(path, settings) {
  const prompts = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim().length > 0);
  const answers = {};
  for (const prompt of prompts) answers[prompt] = answer(prompt, settings);
  const outputDir = process.env.HORDE_OUTPUT_DIR ?? '/output';
  await mkdir(outputDir, { recursive: true });
  const body = JSON.stringify(answers);
  await writeFile(join(outputDir, `${basename(path).replace(/\.txt$/, '')}.json`), body);
  process.stdout.write(`answered ${prompts.length} prompts\n`);
  return body;
}

/** The streaming mode: one seed per POST /execute-job, until GET /terminate. */
function serve(path, decoding) {
  const reply = (res, status, text) => res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
  const server = createServer((req, res) => {
    if (req.url === '/health') return reply(res, 200, 'OK');
    if (req.url === '/terminate') {
      reply(res, 200, 'OK');
      server.close();
      setTimeout(() => process.exit(0), 100);
      return;
    }
    if (req.url !== '/execute-job' || req.method !== 'POST') return reply(res, 404, 'Not Found');
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      raw += chunk;
      if (raw.length > 65_536) req.destroy();
    });
    req.on('end', async () => {
      let seed;
      try {
        seed = JSON.parse(raw).seed;
      } catch {
        return reply(res, 400, 'body must be JSON {"seed": "..."}');
      }
      if ((typeof seed !== 'string' && typeof seed !== 'number') || String(seed).length === 0) return reply(res, 400, 'missing seed');
      try {
        const body = await solve(path, { ...decoding, seed: String(seed) });
        reply(res, 200, createHash('sha256').update(body).digest('hex'));
      } catch (error) {
        reply(res, 500, error instanceof Error ? error.message : String(error));
      }
    });
  });
  server.listen(Number(process.env.HORDE_STREAMING_PORT ?? 8000), process.env.HORDE_STREAMING_HOST ?? '0.0.0.0');
}

async function main() {
  const args = process.argv.slice(2);
  const decoding = {
    temperature: option(args, 'temperature', '0.5'),
    topP: option(args, 'top-p', '0.8'),
    maxTokens: Number(option(args, 'max-tokens', '256')),
  };
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith('--')) positional.push(args[i]);
    else if (!args[i].includes('=') && args[i] !== '--server') i++; // `--name value`: skip the value too
  }
  const input = positional.at(-1);
  if (!input) throw new Error('missing the prompts file');
  const volumeDir = process.env.HORDE_VOLUME_DIR;
  const path = volumeDir && input.startsWith('/volume/') ? join(volumeDir, input.slice('/volume/'.length)) : input;
  if (args.includes('--server')) return serve(path, decoding);
  const seed = option(args, 'seed');
  if (seed === undefined) throw new Error('missing --seed');
  await solve(path, { ...decoding, seed });
}

main().catch((error) => {
  process.stderr.write(`llm-prompts: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
