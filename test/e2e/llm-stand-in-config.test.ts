/**
 * `horde config check` refuses a validator config on a real chain whose LLM prompt job would take
 * the stand-in solver's answers as proof of a GPU class, and accepts it on the local chain (the
 * devnet) or with a real solver image.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../support/miner-harness.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'horde-llm-stand-in-'));
beforeAll(() => requireBuiltCli());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(name: string, network: string, llmConfig: Record<string, unknown> = {}) {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      role: 'validator',
      hotkey: '//StandInValidator',
      dataDir: dir,
      chain: { network, netuid: 12 },
      // The generator's prompts live in an object store: without one the config is refused for that.
      objectStore: { endpoint: 'http://127.0.0.1:9', bucket: 'prompts' },
      plugins: ['@horde/plugin-hardware-classes', { name: '@horde/plugin-job-llm-prompts', config: llmConfig }],
    }),
  );
  return spawnSync('node', [CLI, 'config', 'check', '--config', file], { encoding: 'utf8', env: { ...process.env, HORDE_CONFIG: '' } });
}

describe('horde config check and the stand-in LLM solver', () => {
  it('refuses stand-in answers for the A6000 class on finney, naming the fix', () => {
    const result = check('finney', 'finney');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('HORDE_LLM_STAND_IN_OUTSIDE_DEVNET');
    expect(result.stderr).toContain('would accept its answers as proof of always_on.llm.a6000');
    expect(result.stderr).toContain('Dockerfile.vllm');
    expect(result.stderr).not.toMatch(/\n\s+at /); // a clear message, no stack trace
  });

  it('accepts the stand-in on the local chain, and a real solver image on finney', () => {
    const local = check('local', 'local');
    expect(local.stderr).toBe('');
    expect(local.status).toBe(0);
    const real = check('real', 'finney', { image: 'horde/job-llm-prompts:1-vllm' });
    expect(real.status).toBe(0);
    expect(real.stdout).toContain('@horde/plugin-job-llm-prompts');
  });
});
