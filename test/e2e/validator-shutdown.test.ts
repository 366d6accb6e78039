/**
 * `horde validator` stops promptly on SIGTERM even in the middle of a batch whose executor never
 * answers: the open job ends at once (its outcome is not stored, the batch is recorded failed),
 * the miner connection is dropped, and the process exits on its own: nothing keeps it alive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { openStore } from '../../core/src/store/index.js';
import { SimulatedMiner } from '../../core/src/testkit/index.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { registerLocalSubnet } from '../support/local-subnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const NETUID = 12;
const dir = mkdtempSync(join(tmpdir(), 'horde-validator-shutdown-'));
const storeFile = join(dir, 'horde.sqlite');
let validator: Hotkey;
let miner: SimulatedMiner;

beforeAll(async () => {
  requireBuiltCli();
  validator = await loadHotkey({ uri: '//ShutdownValidator' });
  const minerKey = await loadHotkey({ uri: '//ShutdownMiner' });
  // The executor never answers the job: without an abort the validator would wait its limits plus 120 s.
  miner = await SimulatedMiner.start({ hotkey: minerKey, manifest: { 'always_on.test': 1 }, executionDelayMs: 600_000 });

  const store = await openStore({ client: 'sqlite', filename: storeFile });
  await LocalChain.init(store, { blockTimeMs: 100, subnets: [{ netuid: NETUID, tempo: 9, servingRateLimit: 0 }] });
  await registerLocalSubnet(store, { netuid: NETUID, validator: validator.ss58, miners: [{ hotkey: minerKey.ss58, port: miner.port }] });
  await store.close();

  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      role: 'validator',
      hotkey: '//ShutdownValidator',
      dataDir: dir,
      store: { client: 'sqlite', filename: storeFile },
      chain: { network: 'local', netuid: NETUID },
      validator: { cycleLengthBlocks: 20, batchOffsetBlocks: 1, jobResponseSlackSeconds: 120, weights: { attempts: 1 } },
      log: { level: 'info', pretty: false },
      plugins: [
        { name: '@horde/plugin-hardware-classes', config: { classes: ['always_on.test'] } },
        '@horde/plugin-job-hash-crack',
        { name: '@horde/plugin-scoring-classic', config: { classWeights: { 'always_on.test': 1 } } },
      ],
    }),
  );
});

afterAll(async () => {
  await miner?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('validator shutdown', () => {
  it('exits within seconds of SIGTERM while a job waits on a silent executor; the batch is recorded failed, its jobs not scored', async () => {
    const child = spawn(process.execPath, [CLI, 'validator', '--config', join(dir, 'config.json')], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The job request reached the miner: the validator now waits for a result that never comes.
      await expect.poll(() => miner.jobs.length, { timeout: 30_000, interval: 100 }).toBe(1);
      expect(miner.openConnections).toBe(1);

      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      // No process.exit in the CLI: the process ends only once nothing (socket, timer) holds it.
      const code = await Promise.race([
        exited,
        new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000)),
      ]);
      expect(code).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
      expect(output).toContain('batch aborted');
      expect(miner.openConnections).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }

    const store = await openStore({ client: 'sqlite', filename: storeFile });
    try {
      const validatorStore = new ValidatorStore(store, validator.ss58);
      const cycle = Number(/"cycle":(\d+)[^\n]*batch started/.exec(output)?.[1]);
      expect(Number.isInteger(cycle)).toBe(true);
      expect((await validatorStore.batch(cycle))?.status).toBe('failed');
      expect(await validatorStore.jobOutcomes(cycle)).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
