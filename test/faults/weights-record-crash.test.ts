/**
 * kill -9 of the validator in the gap between the chain accepting its weight commit and the
 * validator recording it (`validator_weights`). The gap is held open for real, without a hook in
 * the validator: the test holds an EXCLUSIVE lock on `validator_weights` in the validator's
 * PostgreSQL database (reads go on, the validator's insert waits), while the chain (a LocalChain
 * in the same database, its own tables) takes the commit. Once the commit is on chain, the
 * validator is killed and the lock released.
 *
 * The restarted validator finds the cycle without a recorded commit and scores it again; it must
 * reconcile with the chain instead of committing a second time: the cycle's weights are committed
 * once (the chain's extrinsic log) and revealed once, and the record shows the one commit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { Store } from '../../core/src/contracts/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { openStore } from '../../core/src/store/index.js';
import { SimulatedMiner } from '../../core/src/testkit/index.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { pgDatabase, type TestDatabase } from '../support/services.js';
import { processAlive, waitUntil } from './processes.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const ECHO_PLUGIN = fileURLToPath(new URL('../support/echo-generator-plugin.mjs', import.meta.url));
const NETUID = 12;
const BLOCK_MS = 200;
// 16 s cycles; epochs of 40 blocks (8 s) and the reveal two epochs after the commit: the reveal
// window opens 8 to 16 s after the commit and lasts 8 s, room for the kill and the restart on a
// loaded machine. A rate limit of 0 lets a second commit land (and show).
const CYCLE_BLOCKS = 80;

const dir = mkdtempSync(join(tmpdir(), 'horde-weights-crash-'));
let db: TestDatabase;
let store: Store;
let validator: Hotkey;
const miners: SimulatedMiner[] = [];
const runs: Array<{ child: ChildProcess; output: string[] }> = [];

beforeAll(async () => {
  requireBuiltCli();
  db = await pgDatabase('horde_weights_crash');
  store = await openStore({ client: 'postgres', url: db.url });
  validator = await loadHotkey({ uri: '//WeightsCrashValidator' });
  await LocalChain.init(store, {
    blockTimeMs: BLOCK_MS,
    subnets: [
      {
        netuid: NETUID,
        tempo: 39,
        servingRateLimit: 0,
        weightsRateLimit: 0,
        commitRevealEnabled: true,
        commitRevealVersion: 3,
        revealPeriodEpochs: 2,
      },
    ],
  });
  const admin = await LocalChain.open({ store, netuid: NETUID });
  await admin.ledger.registerNeuron({
    netuid: NETUID,
    hotkey: validator.ss58,
    coldkey: validator.ss58,
    stake: 60_000,
    validatorPermit: true,
  });
  for (let i = 0; i < 2; i++) {
    const hotkey = await loadHotkey({ uri: `//WeightsCrashMiner${i}` });
    const miner = await SimulatedMiner.start({ hotkey, manifest: { 'always_on.test': 1 } });
    miners.push(miner);
    await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey.ss58, coldkey: hotkey.ss58 });
    const chain = await LocalChain.open({ store, netuid: NETUID, hotkey: hotkey.ss58 });
    await chain.serveAxon(NETUID, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 0 });
    await chain.close();
  }
  await admin.close();
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      role: 'validator',
      hotkey: '//WeightsCrashValidator',
      dataDir: dir,
      store: { client: 'postgres', url: db.url },
      chain: { network: 'local', netuid: NETUID },
      validator: {
        cycleLengthBlocks: CYCLE_BLOCKS,
        batchOffsetBlocks: 1,
        jobResponseSlackSeconds: 5,
        weights: { attempts: 3, retryDelaySeconds: 1, revealEveryBlocks: 2 },
        receiptTransfer: { enabled: false },
      },
      log: { level: 'info', pretty: false },
      plugins: [
        { name: '@horde/plugin-hardware-classes', config: { classes: ['always_on.test'] } },
        ECHO_PLUGIN,
        { name: '@horde/plugin-scoring-classic', config: { classWeights: { 'always_on.test': 1 } } },
      ],
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const { child } of runs) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(miners.map((miner) => miner.close()));
  await store?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

function startValidator(): { child: ChildProcess; output: string[] } {
  const child = spawn(process.execPath, [CLI, 'validator', '--config', join(dir, 'config.json')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const run = { child, output };
  runs.push(run);
  return run;
}

describe('kill -9 of the validator between its weight commit landing and its record of it', () => {
  it('commits the cycle once and reveals it once after the restart', async () => {
    onTestFailed(() => {
      for (const [i, run] of runs.entries())
        console.error(`--- validator run ${i} (pid ${run.child.pid}) ---\n${run.output.join('').split('\n').slice(-60).join('\n')}`);
    });
    // The validator's record of landed weights is held shut: its insert waits, its reads do not.
    const lock = new pg.Client({ connectionString: db.url });
    await lock.connect();
    let locked = false;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE validator_weights IN EXCLUSIVE MODE');
      locked = true;
      const first = startValidator();
      const chain = await LocalChain.open({ store, netuid: NETUID });
      try {
        const commitsOnChain = async () =>
          (await chain.ledger.extrinsics(NETUID, validator.ss58)).filter((e) => e.call === 'commit_weights');
        await waitUntil('the chain took the first commit', async () => (await commitsOnChain()).length > 0, 90_000);
        // The chain has it; the validator's record of it waits on the lock.
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(first.output.join('')).not.toContain('"msg":"weights submitted"');
        const commitBlock = (await commitsOnChain())[0]!.block;

        first.child.kill('SIGKILL');
        await waitUntil('the validator is gone', () => !processAlive(first.child.pid!), 5_000);
        // Its insert was sent before the kill and waits in its server backend, which would run it
        // once the lock goes (the backend notices the dead client only later): end that backend,
        // so the record is lost as when the process dies before sending it.
        const ended = await lock.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        );
        expect(ended.rowCount).toBeGreaterThanOrEqual(1);
        await lock.query('COMMIT');
        locked = false;

        const second = startValidator();
        const validatorStore = new ValidatorStore(store, validator.ss58);
        // The restarted validator records the cycle's weights (the one commit) and reveals them.
        await waitUntil(
          'the commit is revealed',
          async () => (await chain.ledger.extrinsics(NETUID, validator.ss58)).some((e) => e.call === 'reveal_weights'),
          60_000,
        );
        await waitUntil(
          'the commit is recorded',
          async () => (await validatorStore.weightsHistory(100)).some((row) => row.status === 'committed' && row.block === commitBlock),
          30_000,
        );
        second.child.kill('SIGTERM');
        await waitUntil('the validator stopped', () => !processAlive(second.child.pid!), 20_000);

        const landed = (await validatorStore.weightsHistory(100)).filter((row) => row.status === 'committed');
        const cycle = landed.find((row) => row.block === commitBlock)!.cycle;
        const extrinsics = await chain.ledger.extrinsics(NETUID, validator.ss58);
        const commits = extrinsics.filter((e) => e.call === 'commit_weights');
        const reveals = extrinsics.filter((e) => e.call === 'reveal_weights');
        // One commit per recorded cycle (the killed one's among them, once), one reveal per revealed commit.
        expect(landed.filter((row) => row.cycle === cycle)).toHaveLength(1);
        expect(new Set(landed.map((row) => row.cycle)).size).toBe(landed.length);
        expect(commits).toHaveLength(landed.length);
        const revealed = await store.db('chain_weight_commits').where({ hotkey: validator.ss58, status: 'revealed' });
        expect(revealed.map((row) => Number(row.commit_block))).toContain(commitBlock);
        expect(reveals).toHaveLength(revealed.length);
        expect(second.output.join('')).toContain('already on chain; not sent again');
      } finally {
        await chain.close();
      }
    } finally {
      if (locked) await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
    }
  }, 240_000);
});
