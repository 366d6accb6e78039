import { createHash } from 'node:crypto';

/**
 * STAND-IN prompt generator: ComputeHorde has the trusted miner run a small LLM to write prompt
 * series; horde makes them from templates and a seed, which is enough for a check whose point is
 * that the miner answers every prompt with the shared seed, not what the prompts say.
 */
const TEMPLATES = [
  'Explain {topic} to a {audience} in {n} sentences.',
  'Write a short story about {topic} for a {audience}.',
  'List {n} surprising facts about {topic}.',
  'What would a {audience} ask about {topic}? Give {n} questions.',
  'Compare {topic} with {other} in {n} bullet points.',
  'Summarise the history of {topic} for a {audience}.',
];
const TOPICS = [
  'volcanoes',
  'tide pools',
  'prime numbers',
  'the printing press',
  'honey bees',
  'glaciers',
  'compilers',
  'solar sails',
  'coral reefs',
  'the abacus',
  'bridges',
  'lighthouses',
  'migratory birds',
  'sourdough',
  'typefaces',
  'radio',
];
const AUDIENCES = ['child', 'student', 'historian', 'sailor', 'chef', 'engineer', 'poet', 'farmer'];

/** `count` distinct prompts, the same for the same seed. */
export function makePrompts(seed: string, count: number): string[] {
  const prompts = new Set<string>();
  for (let i = 0; prompts.size < count; i++) {
    const h = createHash('sha256').update(`${seed}:${i}`).digest();
    const pick = <T>(list: readonly T[], byte: number) => list[h[byte]! % list.length]!;
    const prompt = pick(TEMPLATES, 0)
      .replace('{topic}', pick(TOPICS, 1))
      .replace('{other}', pick(TOPICS, 2))
      .replace('{audience}', pick(AUDIENCES, 3))
      .replace('{n}', String(2 + (h[4]! % 7)));
    // Templates repeat; a numbered suffix keeps every prompt in a series distinct.
    prompts.add(`${prompt} (#${h.readUInt16BE(5)})`);
  }
  return [...prompts];
}
