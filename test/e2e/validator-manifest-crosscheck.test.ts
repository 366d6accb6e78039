/**
 * The validator's batch cross-checks every miner's served manifest against its manifest
 * commitment on chain, through the validator service as it runs (LocalChain, real websockets to
 * simulated miners, SQLite and PostgreSQL):
 *  - an honest miner serving what it committed: nothing recorded;
 *  - a miner serving two more executors than it committed: recorded with both manifests;
 *  - a miner without a commitment: not checked (nothing to compare with);
 *  - with `manifestSource: commitment` the batch uses the committed manifest and still records the lie.
 * Without the cross-check nothing was recorded and the dancing check could not refuse a dance
 * resting on such a manifest (test/e2e/dancing-verified.test.ts shows the bonus refused).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { encodeManifestCommitment } from '../../core/src/chain/manifest-commitment.js';
import { validatorSection } from '../../core/src/config/sections/validator.js';
import type { Manifest, Store } from '../../core/src/contracts/index.js';
import type { Hotkey } from '../../core/src/keys/index.js';
import { silentLogger } from '../../core/src/logging/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { SimulatedMiner, testHotkey } from '../../core/src/testkit/index.js';
import { createValidator, type ValidatorHandle } from '../../core/src/validator/index.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { pgDatabase } from '../support/services.js';

const NETUID = 7;
const TEST = 'always_on.test';

describe.each(['sqlite', 'postgres'] as const)('served manifest cross-checked against the chain commitment (%s store)', (dialect) => {
  let store: Store;
  let dropDb: (() => Promise<void>) | null = null;
  let validator: Hotkey;
  let honest: Hotkey;
  let liar: Hotkey;
  let uncommitted: Hotkey;
  const miners: SimulatedMiner[] = [];
  const chains: LocalChain[] = [];
  const validators: ValidatorHandle[] = [];

  async function chainAs(hotkey: string): Promise<LocalChain> {
    const chain = await LocalChain.open({ store, netuid: NETUID, hotkey });
    chains.push(chain);
    return chain;
  }

  /** A simulated miner on chain: registered, its axon announced, its commitment (if any) set. */
  async function minerOnChain(hotkey: Hotkey, served: Manifest, committed: Manifest | null): Promise<void> {
    const miner = await SimulatedMiner.start({ hotkey, manifest: served });
    miners.push(miner);
    const chain = await chainAs(hotkey.ss58);
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey.ss58, coldkey: hotkey.ss58 });
    await chain.serveAxon(NETUID, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 1 });
    if (committed) await chain.setCommitment(NETUID, encodeManifestCommitment(committed));
  }

  beforeAll(async () => {
    if (dialect === 'postgres') {
      const db = await pgDatabase('horde_crosscheck');
      dropDb = db.drop;
      store = await openStore({ client: 'postgres', url: db.url });
    } else {
      store = await openStore({ client: 'sqlite', filename: ':memory:' });
    }
    [validator, honest, liar, uncommitted] = await Promise.all(
      ['//CrossValidator', '//CrossHonest', '//CrossLiar', '//CrossUncommitted'].map(testHotkey),
    );
    await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
    const admin = await chainAs(validator.ss58);
    await admin.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: validator.ss58,
      coldkey: validator.ss58,
      stake: 60_000,
      validatorPermit: true,
    });
    await minerOnChain(honest, { [TEST]: 2 }, { [TEST]: 2 });
    await minerOnChain(liar, { [TEST]: 4 }, { [TEST]: 2 });
    await minerOnChain(uncommitted, { [TEST]: 3 }, null);
  }, 60_000);
  afterAll(async () => {
    for (const handle of validators) await handle.close().catch(() => undefined);
    for (const miner of miners) await miner.close();
    for (const chain of chains) await chain.close().catch(() => undefined);
    await store?.close();
    await dropDb?.();
  });

  async function validatorWith(manifestSource: 'websocket' | 'commitment'): Promise<ValidatorHandle> {
    const handle = await createValidator({
      hotkey: validator,
      chain: await chainAs(validator.ss58),
      store,
      netuid: NETUID,
      settings: validatorSection.parse({
        manifestTimeoutSeconds: 5,
        mainHotkeyTimeoutSeconds: 2,
        manifestSource,
        receiptTransfer: { verifyThreads: 0 },
      }),
      // No generator: the batch reads manifests and main hotkeys, and runs no jobs.
      generators: [],
      hardwareClasses: HARDWARE_CLASSES.filter((c) => c.id === TEST),
      scoringRules: [],
      logger: silentLogger(),
      clock: new SystemClock(),
      autoRun: false,
    });
    validators.push(handle);
    return handle;
  }

  it('records the miner whose served manifest contradicts its commitment, and only it', async () => {
    const handle = await validatorWith('websocket');
    const batch = await handle.runBatch(11);
    expect(await handle.store.manifests(batch.cycle)).toEqual({
      [honest.ss58]: { [TEST]: 2 },
      [liar.ss58]: { [TEST]: 4 },
      [uncommitted.ss58]: { [TEST]: 3 },
    });
    expect(await handle.store.manifestContradictions(batch.cycle)).toEqual([
      { minerHotkey: liar.ss58, served: { [TEST]: 4 }, committed: { [TEST]: 2 } },
    ]);
    await handle.close();
  }, 60_000);

  it('with manifestSource commitment, uses the committed manifest and still records the contradiction', async () => {
    const handle = await validatorWith('commitment');
    const batch = await handle.runBatch(12);
    expect((await handle.store.manifests(batch.cycle))[liar.ss58]).toEqual({ [TEST]: 2 });
    expect((await handle.store.manifestContradictions(batch.cycle)).map((c) => c.minerHotkey)).toEqual([liar.ss58]);
    await handle.close();
  }, 60_000);
});
