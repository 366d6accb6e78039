/**
 * The dancing bonus is paid for executors that moved, not for a reported main-hotkey change. Side
 * by side over three cycles, each a real batch over real websockets into the real store (SQLite
 * and PostgreSQL), scored with the classic rules:
 *  - a farmer: one hotkey answering `V0MainHotkeyMessage` with itself, then with a hotkey that is
 *    not registered, then with itself again, its executors never moving;
 *  - a dancer: two hotkeys of one coldkey following the `rotate-main` strategy of plugins/dancing
 *    (main hotkey and the whole horde move together every cycle);
 *  - an honest miner with the same executors, for reference;
 *  - a liar: two hotkeys of one coldkey that serve what the dancer serves (the horde moving every
 *    cycle) while their manifest commitments on chain never move; the dancer commits what it serves.
 * Before the fix the farmer earned the 30 % bonus every cycle, as much as the dancer; before the
 * cross-check with the commitments, so did the liar.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { decodeManifestCommitment, encodeManifestCommitment } from '../../core/src/chain/manifest-commitment.js';
import type { GeneratedJob, HardwareClass, JobGenerator, Manifest, Store } from '../../core/src/contracts/index.js';
import type { Hotkey } from '../../core/src/keys/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { SimulatedMiner, testHotkey } from '../../core/src/testkit/index.js';
import { runBatch, type BatchSettings } from '../../core/src/validator/batch.js';
import { cycleByIndex } from '../../core/src/validator/cycles.js';
import type { MinerTarget } from '../../core/src/validator/miner-client.js';
import { runScoringPipeline } from '../../core/src/validator/scoring/engine.js';
import { buildCycleFacts } from '../../core/src/validator/scoring/facts.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { rotateMain } from '../../plugins/dancing/src/strategies.js';
import { CLASSIC_RULES, classicRule, scoringClassicConfig } from '../../plugins/scoring-classic/src/index.js';
import { pgDatabase } from '../support/services.js';

const NETUID = 12;
const CYCLE_BLOCKS = 100;
const TEST: HardwareClass = {
  id: 'always_on.test',
  description: 'test',
  spinUpSeconds: 0,
  shortCode: 'T',
  resources: {},
  dockerPreset: 'none',
  proof: { jobGenerators: ['echo'], maxJobSeconds: 10 },
};
const HORDE: Manifest = { [TEST.id]: 2 };
const logger = pino({ level: 'silent' });
const clock = new SystemClock();

/** A job whose answer is a secret on the command line: the simulated executor prints it back. */
const echoGenerator: JobGenerator = {
  name: 'echo',
  supports: (c) => c.id === TEST.id,
  async generate(request): Promise<GeneratedJob> {
    const secret = randomBytes(8).toString('hex');
    return {
      description: 'echo',
      spec: {
        executorClass: request.executorClass.id,
        image: 'echo',
        command: ['--key', secret],
        env: {},
        dockerRunOptionsPreset: 'none',
        timing: {
          allowedLeewaySeconds: 1,
          downloadTimeLimitSeconds: 1,
          executionTimeLimitSeconds: 2,
          uploadTimeLimitSeconds: 1,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result) => ({ correct: result.stdout.trim() === secret, inTime: result.timeTookMs < 2000, details: 'echo' }),
    };
  },
};

const settings: BatchSettings = {
  limits: { reservationMs: 2000, startupMs: 2000, slackMs: 1000 },
  manifestTimeoutMs: 2000,
  mainHotkeyTimeoutMs: 1000,
  connectConcurrency: 8,
  generateConcurrency: 8,
  verifyConcurrency: 4,
  maxExecutorsPerClass: 0,
};

describe.each(['sqlite', 'postgres'] as const)('dancing bonus only for executors that moved (%s store)', (dialect) => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-dancing-'));
  let store: Store;
  let dropDb: (() => Promise<void>) | null = null;
  let validator: Hotkey;
  let honest: Hotkey;
  let farmer: Hotkey;
  let ghost: Hotkey;
  let dancers: [Hotkey, Hotkey];
  let liars: [Hotkey, Hotkey];
  let chain: LocalChain;
  /** One chain handle per miner hotkey: a commitment is written by its own hotkey. */
  const minerChains = new Map<string, LocalChain>();
  async function commit(hotkey: Hotkey, manifest: Manifest): Promise<void> {
    let handle = minerChains.get(hotkey.ss58);
    if (!handle) {
      handle = await LocalChain.open({ store, netuid: NETUID, hotkey: hotkey.ss58 });
      minerChains.set(hotkey.ss58, handle);
    }
    await handle.setCommitment(NETUID, encodeManifestCommitment(manifest));
  }

  beforeAll(async () => {
    if (dialect === 'postgres') {
      const db = await pgDatabase('horde_dancing');
      dropDb = db.drop;
      store = await openStore({ client: 'postgres', url: db.url });
    } else {
      store = await openStore({ client: 'sqlite', filename: join(dir, 'horde.sqlite') });
    }
    const keys = await Promise.all(
      [
        '//DanceValidator',
        '//DanceHonest',
        '//DanceFarmer',
        '//DanceGhost',
        '//DanceD1',
        '//DanceD2',
        '//ColdHonest',
        '//ColdFarmer',
        '//ColdDancer',
        '//DanceL1',
        '//DanceL2',
        '//ColdLiar',
      ].map(testHotkey),
    );
    liars = [keys[9]!, keys[10]!];
    const [coldHonest, coldFarmer, coldDancer] = [keys[6]!.ss58, keys[7]!.ss58, keys[8]!.ss58];
    [validator, honest, farmer, ghost] = [keys[0]!, keys[1]!, keys[2]!, keys[3]!];
    dancers = [keys[4]!, keys[5]!];
    await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
    chain = await LocalChain.open({ store, netuid: NETUID });
    await chain.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: validator.ss58,
      coldkey: validator.ss58,
      stake: 60_000,
      validatorPermit: true,
    });
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: honest.ss58, coldkey: coldHonest });
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: farmer.ss58, coldkey: coldFarmer });
    for (const dancer of dancers) await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: dancer.ss58, coldkey: coldDancer });
    for (const liar of liars) await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: liar.ss58, coldkey: keys[11]!.ss58 });
    // What the chain says, once: the honest miner and the farmer commit what they serve; the
    // liar's horde stays on its first hotkey on chain whatever it serves.
    await commit(honest, HORDE);
    await commit(farmer, HORDE);
    await commit(liars[0], HORDE);
    await commit(liars[1], {}); // The ghost hotkey the farmer names every other cycle is registered nowhere.
  });
  afterAll(async () => {
    for (const handle of minerChains.values()) await handle.close();
    await chain?.close();
    await store?.close();
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One cycle: every miner as it presents itself in `cycle`, a real batch against them, then scoring. */
  async function runCycle(cycle: number): Promise<Map<string, number>> {
    const strategy = rotateMain();
    const ctx = { cycle, hotkeys: dancers.map((d) => d.ss58), manifest: HORDE };
    const assignment = strategy.assign(ctx);
    const dancerMain = strategy.mainHotkey(ctx);
    // The liar serves the same moves under its own hotkeys.
    const liarOf = new Map(dancers.map((dancer, i) => [dancer.ss58, liars[i]!]));
    // The dancer moves its commitments with its horde, as a miner's manifest publisher does.
    for (const dancer of dancers) await commit(dancer, assignment[dancer.ss58] ?? {});
    const miners = await Promise.all([
      SimulatedMiner.start({ hotkey: honest, manifest: HORDE }),
      // Claims a new main hotkey every other cycle; its executors never move.
      SimulatedMiner.start({ hotkey: farmer, manifest: HORDE, mainHotkey: cycle % 2 === 0 ? ghost.ss58 : farmer.ss58 }),
      ...dancers.map((dancer) => SimulatedMiner.start({ hotkey: dancer, manifest: assignment[dancer.ss58] ?? {}, mainHotkey: dancerMain })),
      ...dancers.map((dancer) =>
        SimulatedMiner.start({
          hotkey: liarOf.get(dancer.ss58)!,
          manifest: assignment[dancer.ss58] ?? {},
          mainHotkey: liarOf.get(dancerMain)!.ss58,
        }),
      ),
    ]);
    const metagraph = await chain.metagraph(NETUID);
    const coldkeyOf = new Map(metagraph.neurons.map((n) => [n.hotkey, n.coldkey]));
    const targets: MinerTarget[] = miners.map((miner) => ({
      hotkey: miner.hotkey,
      coldkey: coldkeyOf.get(miner.hotkey) ?? null,
      uid: 1,
      host: '127.0.0.1',
      port: miner.port,
    }));
    const validatorStore = new ValidatorStore(store, validator.ss58);
    const range = cycleByIndex(cycle, CYCLE_BLOCKS);
    try {
      await validatorStore.startBatch(cycle, range.startBlock, clock.now());
      const result = await runBatch(range, targets, {
        validator,
        clock,
        logger,
        store: validatorStore,
        generators: [echoGenerator],
        hardwareClasses: [TEST],
        settings,
        committedManifestOf: async (target) => {
          const raw = await chain.commitment(NETUID, target.hotkey);
          return raw === null ? null : decodeManifestCommitment(raw).manifest;
        },
      });
      await validatorStore.finishBatch(cycle, {
        finishedAt: clock.now(),
        miners: result.miners,
        jobs: result.jobs,
        overheadMs: result.overheadMs,
        status: 'finished',
      });
    } finally {
      await Promise.all(miners.map((miner) => miner.close()));
    }
    const facts = await buildCycleFacts({ store: validatorStore, cycle: range, metagraph, hardwareClasses: [TEST] });
    const config = scoringClassicConfig.parse({ classWeights: { [TEST.id]: 1 } });
    const scored = runScoringPipeline(
      CLASSIC_RULES.map((name) => classicRule(name, config)),
      facts,
    );
    return new Map(scored.weights.map((w) => [w.hotkey, w.weight]));
  }

  it('pays the rotate-main dancer +30 % and the farmer nothing extra, cycle after cycle', async () => {
    await runCycle(3); // the first cycle has nothing to compare with
    for (const cycle of [4, 5]) {
      const weights = await runCycle(cycle);
      const honestWeight = weights.get(honest.ss58)!;
      const dancerTotal = dancers.reduce((sum, d) => sum + (weights.get(d.ss58) ?? 0), 0);
      expect(honestWeight).toBeGreaterThan(0);
      // The farmer: same executors, same jobs, same weight as the honest miner; no bonus.
      expect(weights.get(farmer.ss58)! / honestWeight).toBeCloseTo(1, 6);
      // The dancer: its horde moved to the new main hotkey, so its coldkey earns 1.3 × an honest miner.
      expect(dancerTotal / honestWeight).toBeCloseTo(1.3, 6);
      // The liar: its served horde moved, its committed one did not; the contradiction costs the bonus.
      const liarTotal = liars.reduce((sum, l) => sum + (weights.get(l.ss58) ?? 0), 0);
      expect(liarTotal / honestWeight).toBeCloseTo(1, 6);
      // Recorded with both manifests, in the cycle of the two where the served horde was not on the
      // hotkey that committed it (rotate-main puts it back there every other cycle): both liar
      // hotkeys then, and no one else.
      const validatorStore = new ValidatorStore(store, validator.ss58);
      const [now, before] = await Promise.all([
        validatorStore.manifestContradictions(cycle),
        validatorStore.manifestContradictions(cycle - 1),
      ]);
      const lies = now.length > 0 ? now : before;
      expect(Math.min(now.length, before.length)).toBe(0);
      expect(lies.map((c) => c.minerHotkey).sort()).toEqual(liars.map((l) => l.ss58).sort());
      expect(lies.find((c) => c.minerHotkey === liars[0].ss58)).toMatchObject({ served: {}, committed: HORDE });
    }
  }, 60_000);
});
