/**
 * A batch that runs past the end of its cycle, and past the end of the next one, is still scored
 * and its weights are set: `horde validator` (built CLI) on a LocalChain whose cycles last 2 s,
 * against a miner (the testkit's SimulatedMiner, real websockets) whose jobs take 5 s. On SQLite
 * and PostgreSQL. Before the fix only the cycle just before the current one was ever scored, so a
 * batch that finished two cycles late was dropped without a word.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { StoreOptions } from '../../core/src/store/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { openStore } from '../../core/src/store/index.js';
import { SimulatedMiner } from '../../core/src/testkit/index.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { registerLocalSubnet } from '../support/local-subnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { pgDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';
import { readZip } from '../support/zip.js';
import type { V0InitialJobRequest, V0JobRequest } from '../../core/src/protocol/index.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const NETUID = 12;
const BLOCK_MS = 100;
const CYCLE_BLOCKS = 20; // 2 s
const JOB_MS = 5_000; // two and a half cycles
const CRACK = fileURLToPath(new URL('../../plugins/job-hash-crack/job/crack.mjs', import.meta.url));
const run = promisify(execFile);

/** Runs the hash-crack job script on the job's inline volume, as an executor would. */
async function crack(request: V0JobRequest, initial: V0InitialJobRequest): Promise<{ stdout: string }> {
  const volume = initial.volume ?? request.volume;
  if (volume?.volume_type !== 'inline') throw new TypeError('hash-crack jobs carry an inline volume');
  const dir = mkdtempSync(join(tmpdir(), 'horde-overrun-volume-'));
  try {
    for (const [name, bytes] of await readZip(Buffer.from(volume.contents, 'base64'))) writeFileSync(join(dir, name), bytes);
    const { stdout } = await run(process.execPath, [CRACK, ...request.docker_run_cmd], { env: { ...process.env, HORDE_VOLUME_DIR: dir } });
    return { stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(['sqlite', 'postgres'] as const)('a batch longer than its cycle (%s store)', (dialect) => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-validator-overrun-'));
  let storeConfig: StoreOptions;
  let dropDb: (() => Promise<void>) | null = null;
  let validator: Hotkey;
  let miner: SimulatedMiner;

  beforeAll(async () => {
    requireBuiltCli();
    validator = await loadHotkey({ uri: '//OverrunValidator' });
    const minerKey = await loadHotkey({ uri: '//OverrunMiner' });
    // The miner really cracks the hashes (the shipped job script), then waits: a right answer, late batch.
    miner = await SimulatedMiner.start({ hotkey: minerKey, manifest: { 'always_on.test': 1 }, executionDelayMs: JOB_MS, execute: crack });
    if (dialect === 'postgres') {
      const db = await pgDatabase('horde_overrun');
      dropDb = db.drop;
      storeConfig = { client: 'postgres', url: db.url };
    } else {
      storeConfig = { client: 'sqlite', filename: join(dir, 'horde.sqlite') };
    }
    const store = await openStore(storeConfig);
    await LocalChain.init(store, {
      blockTimeMs: BLOCK_MS,
      subnets: [{ netuid: NETUID, tempo: CYCLE_BLOCKS / 2 - 1, servingRateLimit: 0, weightsRateLimit: 0 }],
    });
    await registerLocalSubnet(store, { netuid: NETUID, validator: validator.ss58, miners: [{ hotkey: minerKey.ss58, port: miner.port }] });
    await store.close();

    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        role: 'validator',
        hotkey: '//OverrunValidator',
        dataDir: dir,
        store: storeConfig,
        chain: { network: 'local', netuid: NETUID },
        validator: {
          cycleLengthBlocks: CYCLE_BLOCKS,
          batchOffsetBlocks: 1,
          jobResponseSlackSeconds: 30,
          weights: { attempts: 1, revealEveryBlocks: 1 },
        },
        log: { level: 'info', pretty: false },
        plugins: [
          { name: '@horde/plugin-hardware-classes', config: { classes: ['always_on.test'] } },
          '@horde/plugin-job-hash-crack', // always_on.test jobs may take 15 s: the 5 s job is in time, the batch is late
          { name: '@horde/plugin-scoring-classic', config: { classWeights: { 'always_on.test': 1 } } },
        ],
      }),
    );
  });

  afterAll(async () => {
    await miner?.close();
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores the batch that finished two cycles late and sets its weights', async () => {
    const child = spawn(process.execPath, [CLI, 'validator', '--config', join(dir, 'config.json')], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const store = await openStore(storeConfig);
    try {
      const batchCycle = await waitFor(
        'the first batch',
        () => {
          const match = /"cycle":(\d+)[^\n]*batch started/.exec(output);
          return match ? Number(match[1]) : undefined;
        },
        30_000,
      );
      const validatorStore = new ValidatorStore(store, validator.ss58);
      const scores = await waitFor(
        `scores of cycle ${batchCycle}`,
        async () => {
          const rows = await validatorStore.scores(batchCycle);
          return rows.length > 0 ? rows : undefined;
        },
        30_000,
        200,
      );
      expect(scores).toEqual([expect.objectContaining({ hotkey: miner.hotkey, weight: 1 })]);
      expect((await validatorStore.batch(batchCycle))?.status).toBe('finished');
      const weights = await waitFor(
        `weights of cycle ${batchCycle}`,
        async () => {
          const rows = (await validatorStore.weights(batchCycle)).filter((w) => w.status === 'set' || w.status === 'committed');
          return rows.length > 0 ? rows : undefined;
        },
        15_000,
        200,
      );
      expect(weights.length).toBeGreaterThan(0);
      // It really overran (finished after the next cycle had ended), and the operator was told.
      expect(output).toContain(`batch of cycle ${batchCycle} ran past the end of its cycle and the next one`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nvalidator output:\n${output.slice(-4000)}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await store.close();
    }
  }, 90_000);
});
