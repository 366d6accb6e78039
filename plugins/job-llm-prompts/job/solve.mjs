#!/usr/bin/env node
// horde llm-prompts job, STAND-IN SOLVER: answers every prompt of a series deterministically from
// the seed, the way the real prompt-solver image does with a seeded LLM (greedy-equivalent
// decoding), but with a tiny word generator instead of a model, so the devnet and the tests run
// without a GPU or model weights. Point the generator's `image` at a real solver for production.
//
//   node solve.mjs [--temperature=0.5] [--top-p=0.8] [--max-tokens=256] --seed <seed> /volume/<series>.txt
//
// Input:  the prompts file, one prompt per line.
// Output: $HORDE_OUTPUT_DIR/<series>.json (default /output), a JSON object prompt → answer.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

const WORDS = ('the a compute horde miner validator block chain weight stake hash proof job executor class ' +
  'answer prompt model token seed cycle epoch subnet network signal value reward score fast slow bright ' +
  'quiet river stone light shadow number letter story question reason method result simple careful ' +
  'because therefore while after before under over through across between within without').split(' ');

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

async function main() {
  const args = process.argv.slice(2);
  const seed = option(args, 'seed');
  if (seed === undefined) throw new Error('missing --seed');
  const settings = {
    seed,
    temperature: option(args, 'temperature', '0.5'),
    topP: option(args, 'top-p', '0.8'),
    maxTokens: Number(option(args, 'max-tokens', '256')),
  };
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith('--')) positional.push(args[i]);
    else if (!args[i].includes('=')) i++; // `--name value`: skip the value too
  }
  const input = positional.at(-1);
  if (!input) throw new Error('missing the prompts file');
  const volumeDir = process.env.HORDE_VOLUME_DIR;
  const path = volumeDir && input.startsWith('/volume/') ? join(volumeDir, input.slice('/volume/'.length)) : input;
  const prompts = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim().length > 0);
  const answers = {};
  for (const prompt of prompts) answers[prompt] = answer(prompt, settings);
  const outputDir = process.env.HORDE_OUTPUT_DIR ?? '/output';
  await mkdir(outputDir, { recursive: true });
  await writeFile(join(outputDir, `${basename(path).replace(/\.txt$/, '')}.json`), JSON.stringify(answers));
  process.stdout.write(`answered ${prompts.length} prompts\n`);
}

main().catch((error) => {
  process.stderr.write(`llm-prompts: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
