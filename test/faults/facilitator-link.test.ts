/**
 * Fault suite: the validator ↔ facilitator websocket cut 20 times (a TCP proxy between them drops
 * every connection) during a stream of organic jobs from the SDK. Every job must end in a final
 * state, its status updates must reach the client in order without repeats, and no job may reach
 * the miner twice. Real facilitator, validator and miner; the miner's executors are real
 * `horde executor` processes (process runner).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { executorSection } from '../../core/src/config/sections/executor.js';
import { facilitatorSection } from '../../core/src/config/sections/facilitator.js';
import { minerSection } from '../../core/src/config/sections/miner.js';
import { validatorSection } from '../../core/src/config/sections/validator.js';
import type { HardwareClass, Store } from '../../core/src/contracts/index.js';
import { createFacilitator, type FacilitatorHandle } from '../../core/src/facilitator/index.js';
import { loadHotkey } from '../../core/src/keys/index.js';
import { silentLogger } from '../../core/src/logging/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { createMiner, type RunningMiner } from '../../core/src/miner/miner.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { createValidator, type ValidatorHandle } from '../../core/src/validator/index.js';
import { HordeClient, type HordeJobSpec } from '@horde/core/sdk';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { CLASSIC_RULES, classicRule, scoringClassicConfig } from '../../plugins/scoring-classic/src/index.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { waitFor } from '../support/wait.js';

const NETUID = 12;
const TEST = 'always_on.test';
const IMAGE = 'horde/echo:1';
const ECHO = ['node', '-e', 'process.stdout.write(process.argv.slice(1).join(" "))'];
/** At least this many jobs, and more while the link has not been cut CUTS times (jobs end faster than the cuts come). */
const JOBS = 20;
const MAX_JOBS = 200;
const CUTS = 20;
const ORDER = ['sent', 'received', 'accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'completed'];

/** A TCP proxy whose `cut()` drops every connection through it (the link, not either end). */
class CuttableLink {
  private readonly pairs = new Set<[Socket, Socket]>();
  private constructor(private readonly server: Server) {}
  static async open(upstreamPort: number): Promise<CuttableLink> {
    const server = createServer();
    const link = new CuttableLink(server);
    server.on('connection', (downstream) => {
      const upstream = connect(upstreamPort, '127.0.0.1');
      const pair: [Socket, Socket] = [downstream, upstream];
      link.pairs.add(pair);
      for (const socket of pair) socket.on('error', () => undefined).on('close', () => link.pairs.delete(pair));
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return link;
  }
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
  cut(): number {
    const cut = this.pairs.size;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    return cut;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const minerLog: Array<Record<string, unknown>> = [];
const minerLogStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) minerLog.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

const clock = new SystemClock();
const dataDir = mkdtempSync(join(tmpdir(), 'horde-link-faults-'));
const stores: Store[] = [];
const chains: LocalChain[] = [];
let miner: RunningMiner;
let minerStore: Store;
let facilitator: FacilitatorHandle;
let validator: ValidatorHandle;
let link: CuttableLink;
let client: HordeClient;

async function store(name: string): Promise<Store> {
  const opened = await openStore({ client: 'sqlite', filename: join(dataDir, `${name}.sqlite`) });
  stores.push(opened);
  return opened;
}
async function chainFor(chainStore: Store, hotkey?: string): Promise<LocalChain> {
  const chain = await LocalChain.open({ store: chainStore, netuid: NETUID, ...(hotkey ? { hotkey } : {}) });
  chains.push(chain);
  return chain;
}

beforeAll(async () => {
  requireBuiltCli();
  const [v, m, c] = await Promise.all(['//LinkValidator', '//LinkMiner', '//LinkClient'].map((uri) => loadHotkey({ uri })));
  const chainStore = await store('chain');
  await LocalChain.init(chainStore, { blockTimeMs: 250, subnets: [{ netuid: NETUID }] });
  const admin = await chainFor(chainStore);
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: v!.ss58, coldkey: v!.ss58, stake: 100_000, validatorPermit: true });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: m!.ss58, coldkey: m!.ss58 });

  minerStore = await store('miner');
  miner = await createMiner({
    settings: minerSection.parse({ host: '127.0.0.1', port: 0, manifestCommitIntervalSeconds: 0, executorStartupTimeLimitSeconds: 20 }),
    executorSettings: executorSection.parse({ runner: 'process', processImages: { [IMAGE]: ECHO }, machineSpecs: false }),
    hotkeys: [m!],
    store: minerStore,
    chain: await chainFor(chainStore, m!.ss58),
    netuid: NETUID,
    executorManager: new LocalExecutorManager({ executorClass: TEST, executors: 3, killGraceMs: 2_000, logger: silentLogger() }),
    dancingStrategy: null,
    hardwareClasses: HARDWARE_CLASSES as HardwareClass[],
    dataDir: join(dataDir, 'miner'),
    logger: pino({ level: 'info' }, minerLogStream),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock,
  });
  await (await chainFor(chainStore, m!.ss58)).serveAxon(NETUID, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 1 });

  facilitator = await createFacilitator({
    settings: facilitatorSection.parse({ host: '127.0.0.1', port: 0, hotkeyWhitelist: [c!.ss58] }),
    store: await store('facilitator'),
    chain: await chainFor(chainStore),
    netuid: NETUID,
    logger: silentLogger(),
    clock,
  });
  link = await CuttableLink.open(Number(new URL(facilitator.url!).port));

  validator = await createValidator({
    hotkey: v!,
    chain: await chainFor(chainStore, v!.ss58),
    store: await store('validator'),
    netuid: NETUID,
    settings: validatorSection.parse({
      cycleLengthBlocks: 100_000,
      jobResponseSlackSeconds: 10,
      organic: { facilitatorUrl: `ws://127.0.0.1:${link.port}/ws/v0/`, whitelist: [c!.ss58], reconnectMaxDelaySeconds: 0.3 },
    }),
    generators: [],
    hardwareClasses: HARDWARE_CLASSES as HardwareClass[],
    scoringRules: CLASSIC_RULES.map((name) => classicRule(name, scoringClassicConfig.parse({ classWeights: { [TEST]: 1 } }))),
    logger: silentLogger(),
    clock,
    autoRun: false,
  });
  await waitFor('the validator to log in to the facilitator', () => (validator.organic?.connected ? true : undefined));
  client = new HordeClient({ hotkey: c!, validatorHotkey: v!.ss58, facilitatorUrl: facilitator.url!, pollIntervalMs: 100 });
}, 60_000);

afterAll(async () => {
  await validator?.close();
  await link?.close();
  await facilitator?.close();
  await miner?.close().catch(() => undefined);
  for (const chain of chains) await chain.close().catch(() => undefined);
  for (const opened of stores) await opened.close().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the validator ↔ facilitator link cut 20 times during organic jobs', () => {
  it('ends every job final, with its status updates in order, and sends none twice to the miner', async () => {
    const spec = (i: number): HordeJobSpec => ({
      executorClass: TEST,
      namespace: 'SN99.0',
      image: IMAGE,
      args: [`job-${i}`],
      downloadTimeLimitSec: 5,
      executionTimeLimitSec: 10,
      uploadTimeLimitSec: 5,
    });
    let inFlight = 0;
    let cutsWhileBusy = 0;
    let cuts = 0;
    let next = 0;
    const results: Array<Awaited<ReturnType<HordeClient['runUntilComplete']>>> = [];
    const started = Date.now();
    const stream = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (next < JOBS || (cuts < CUTS && next < MAX_JOBS)) {
          const i = next++;
          inFlight++;
          try {
            results.push(await client.runUntilComplete(spec(i), { timeoutMs: 90_000 }));
          } finally {
            inFlight--;
          }
        }
      }),
    );
    const cutter = (async () => {
      while (cuts < CUTS) {
        await waitFor('the validator to log in again', () => (validator.organic?.connected ? true : undefined), 20_000);
        await new Promise((resolve) => setTimeout(resolve, 100 + ((cuts * 37) % 300)));
        // The stream goes on until the last cut, so a job is in flight but for the moments between jobs.
        if (inFlight === 0 && next < MAX_JOBS) continue;
        if (link.cut() > 0) {
          cuts++;
          if (inFlight > 0) cutsWhileBusy++;
        }
      }
    })();
    await Promise.all([stream, cutter]);
    await waitFor('the validator to log in after the last cut', () => (validator.organic?.connected ? true : undefined), 20_000);

    expect(cuts).toBe(CUTS);
    expect(cutsWhileBusy).toBeGreaterThanOrEqual(CUTS / 2);
    expect(results.length).toBeGreaterThanOrEqual(JOBS);
    expect(results).toHaveLength(next);
    for (const job of results) {
      const statuses = job.statusHistory.map((s) => s.status);
      expect(['completed', 'failed', 'rejected', 'cheated'], `${job.uuid}: ${statuses.join(',')}`).toContain(job.status);
      const positions = statuses.map((s) => ORDER.indexOf(s)).filter((p) => p >= 0);
      expect(positions, `${job.uuid}: statuses in order, none twice: ${statuses.join(',')}`).toEqual(
        [...positions].sort((a, b) => a - b).filter((p, i, all) => all.indexOf(p) === i),
      );
    }
    const completed = results.filter((job) => job.status === 'completed');
    for (const job of completed) expect(job.result?.stdout).toMatch(/^job-\d+$/);
    // Nothing twice at the miner: one row per job, and no initial request for a job it had seen.
    const uuids = results.map((job) => job.uuid);
    const rows = await minerStore.db('miner_jobs').whereIn('job_uuid', uuids).select('job_uuid');
    expect(new Set(rows.map((r: { job_uuid: string }) => r.job_uuid)).size).toBe(rows.length);
    expect(minerLog.filter((l) => l.msg === 'initial job request for a job uuid already seen; refused')).toEqual([]);
    console.log(
      `[faults] facilitator link cut ${cuts} times (${cutsWhileBusy} with jobs in flight) over ${results.length} jobs in ${Date.now() - started} ms: ${completed.length} completed, ${results.length - completed.length} otherwise final; ${rows.length} reached the miner, none twice`,
    );
  }, 240_000);
});
