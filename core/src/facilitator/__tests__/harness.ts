/**
 * A facilitator for tests: a real store (SQLite file), a LocalChain in it with two validators
 * (permit + stake), a registered neuron without a permit, and real sr25519 client keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChain } from '../../chain/local/local-chain.js';
import { facilitatorSection, type FacilitatorSection } from '../../config/sections/facilitator.js';
import type { Clock, Store } from '../../contracts/index.js';
import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { createLogger, silentLogger } from '../../logging/index.js';
import { openStore } from '../../store/index.js';
import { createFacilitator, type FacilitatorHandle } from '../server.js';
import { pgDatabase } from '../../../../test/support/services.js';

export const NETUID = 12;

/** Wall time plus an offset the test moves forward. */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

export interface TestFacilitator {
  readonly handle: FacilitatorHandle;
  readonly store: Store;
  readonly chain: LocalChain;
  readonly clock: ShiftedClock;
  /** Whitelisted clients. */
  readonly alice: Hotkey;
  readonly bob: Hotkey;
  /** Not whitelisted. */
  readonly eve: Hotkey;
  /** Active validators. */
  readonly validator: Hotkey;
  readonly validator2: Hotkey;
  /** Registered without a validator permit. */
  readonly noPermit: Hotkey;
  close(): Promise<void>;
}

export type Dialect = 'sqlite' | 'postgres';
/** The store dialects every store-backed test runs on. */
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export async function startTestFacilitator(
  options: { listen?: boolean; settings?: Partial<FacilitatorSection>; dialect?: Dialect } = {},
): Promise<TestFacilitator> {
  const dir = mkdtempSync(join(tmpdir(), 'horde-facilitator-'));
  let dropDb: (() => Promise<void>) | null = null;
  let store: Store;
  if (options.dialect === 'postgres') {
    const db = await pgDatabase('horde_facilitator');
    dropDb = db.drop;
    store = await openStore({ client: 'postgres', url: db.url });
  } else {
    store = await openStore({ client: 'sqlite', filename: join(dir, 'facilitator.sqlite') });
  }
  const [alice, bob, eve, validator, validator2, noPermit] = await Promise.all(
    ['//FacAlice', '//FacBob', '//FacEve', '//FacValidator', '//FacValidator2', '//FacNoPermit'].map((uri) => loadHotkey({ uri })),
  );
  await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
  const chain = await LocalChain.open({ store, netuid: NETUID });
  for (const v of [validator!, validator2!])
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: v.ss58, coldkey: v.ss58, stake: 5000, validatorPermit: true });
  await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: noPermit!.ss58, coldkey: noPermit!.ss58, stake: 5000 });
  const clock = new ShiftedClock();
  const logger = process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger();
  const handle = await createFacilitator({
    settings: facilitatorSection.parse({
      host: '127.0.0.1',
      port: 0,
      hotkeyWhitelist: [alice!.ss58, bob!.ss58],
      // Every test logs in from 127.0.0.1 on a clock that barely moves: the rate limit has its own tests.
      unauthenticatedRateLimit: { perSecond: 1000, burst: 10_000 },
      ...options.settings,
    }),
    store,
    chain,
    netuid: NETUID,
    logger,
    clock,
    listen: options.listen ?? false,
  });
  return {
    handle,
    store,
    chain,
    clock,
    alice: alice!,
    bob: bob!,
    eve: eve!,
    validator: validator!,
    validator2: validator2!,
    noPermit: noPermit!,
    async close() {
      await handle.close();
      await chain.close();
      await store.close();
      await dropDb?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A job body as ComputeHorde's SDK sends it (`create_job`). */
export function jobBody(validatorHotkey: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    target_validator_hotkey: validatorHotkey,
    executor_class: 'always_on.test',
    docker_image: 'horde/echo:1',
    args: ['hello', 'world'],
    env: { GREETING: 'hi' },
    use_gpu: true,
    artifacts_dir: '/artifacts',
    on_trusted_miner: false,
    download_time_limit: 5,
    execution_time_limit: 10,
    streaming_start_time_limit: 5,
    upload_time_limit: 5,
    volumes: [{ volume_type: 'single_file', url: 'https://example.com/data.txt', relative_path: 'data.txt' }],
    ...overrides,
  };
}
