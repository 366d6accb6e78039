import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobRunSpec } from '../../../contracts/index.js';

/**
 * A job for a runner test: its volume, output and artifacts directories under `dir` (the test
 * makes them), no network, `command` run in `image`; `overrides` for the rest.
 */
export function runSpec(dir: string, image: string, command: string[], overrides: Partial<JobRunSpec> = {}): JobRunSpec {
  return {
    jobUuid: randomUUID(),
    image,
    command,
    env: {},
    preset: 'none',
    volumeDir: join(dir, 'volume'),
    outputDir: join(dir, 'output'),
    artifactsDir: join(dir, 'artifacts'),
    artifactsMountPath: '/artifacts',
    network: 'none',
    timeoutMs: 20_000,
    ...overrides,
  };
}

/** Running (a zombie counts as dead: it waits only for a parent that may never reap it). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A SIGKILLed process takes a moment to finish dying: polls for up to 3 s. */
export async function deadSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 60 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !processAlive(pid);
}
