import type {
  AxonInfo,
  Chain,
  Clock,
  Logger,
  Metagraph,
  RevealResult,
  Store,
  SubnetHyperparameters,
  WeightSubmissionResult,
  WeightVector,
} from '../../contracts/index.js';
import { SystemClock } from '../../time/clock.js';
import { ChainConfigError } from '../errors.js';
import { WeightCommitStore } from '../weight-commit-store.js';
import type { BeaconInfo } from '../timelock/beacon.js';
import { WeightSubmitter, type WeightsBackend } from '../weight-submitter.js';
import {
  LocalLedger,
  type AddStakeOptions,
  type LocalChainInitOptions,
  type LocalChainMeta,
  type LocalSubnetParams,
  type RegisterNeuronOptions,
} from './ledger.js';

/** Wall time, for processes that do not inject a clock. */
const wallClock: Clock = new SystemClock();

/** Shortest wait between two block checks of `onBlock`, so millisecond blocks do not spin the CPU. */
const MIN_BLOCK_POLL_MS = 20;

export interface LocalChainOptions {
  readonly store: Store;
  /** ss58 of the hotkey this process acts as; omit for an admin-only handle (CLI, devnet owner). */
  readonly hotkey?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Subnet the admin helpers use when no netuid is given. */
  readonly netuid?: number;
  /** Close `store` with the chain (it was opened for the chain alone). Default false. */
  readonly ownsStore?: boolean;
}

/**
 * The embedded chain for the devnet and tests (see ledger.ts for how it works). Several processes
 * opening the same store see the same chain; each `LocalChain` acts as one hotkey through the
 * `Chain` contract, and every instance can use the admin API (`registerNeuron`, `addStake`, …).
 */
export class LocalChain implements Chain {
  readonly network = 'local';
  readonly hotkey: string;
  readonly ledger: LocalLedger;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly submitter: WeightSubmitter;
  private readonly defaultNetuid: number | undefined;
  private readonly streams = new Set<AbortController>();

  private ownedStore: Store | null;

  private constructor(options: LocalChainOptions) {
    this.ownedStore = options.ownsStore ? options.store : null;
    this.hotkey = options.hotkey ?? '';
    this.clock = options.clock ?? wallClock;
    this.log = options.logger;
    this.defaultNetuid = options.netuid;
    this.ledger = new LocalLedger(options.store.db, this.clock);
    const backend = this.backend();
    this.submitter = new WeightSubmitter({
      backend,
      commits: new WeightCommitStore(options.store.db),
      logger: this.log,
      now: () => this.clock.now(),
    });
  }

  /** Creates the chain in `store` (genesis now). Fails if one exists, unless `reset`. */
  static async init(store: Store, options: LocalChainInitOptions, clock: Clock = wallClock): Promise<LocalChainMeta> {
    return LocalLedger.init(store.db, clock.now(), options);
  }

  /** Opens the LocalChain kept in `store`; fails with a hint when `init` has not run. */
  static async open(options: LocalChainOptions): Promise<LocalChain> {
    const chain = new LocalChain(options);
    chain.blockTimeMs = (await chain.ledger.meta()).blockTimeMs;
    chain.beacon = await chain.ledger.beaconInfo();
    return chain;
  }

  /** The chain's own drand-style beacon (timelocked commits are encrypted for it). */
  private beacon: BeaconInfo | undefined;
  private blockTimeMs: number | undefined;

  private requireHotkey(): string {
    if (!this.hotkey) throw new ChainConfigError('this LocalChain handle has no hotkey; open it with { hotkey } to sign extrinsics');
    return this.hotkey;
  }

  private netuidOr(netuid: number | undefined): number {
    const value = netuid ?? this.defaultNetuid;
    if (value === undefined) throw new ChainConfigError('no netuid given and no default netuid set');
    return value;
  }

  private backend(): WeightsBackend {
    const ledger = this.ledger;
    const self = this;
    return {
      network: 'local',
      get hotkey() {
        return self.requireHotkey();
      },
      nextBlock: () => ledger.currentBlock(),
      weightsState: (netuid) => ledger.weightsState(netuid, self.requireHotkey()),
      setWeights: (netuid, uids, values, versionKey) => ledger.setWeights(self.requireHotkey(), netuid, uids, values, versionKey),
      commitWeights: (netuid, hash) => ledger.commitWeights(self.requireHotkey(), netuid, hash),
      revealWeights: (netuid, uids, values, salt, versionKey) =>
        ledger.revealWeights(self.requireHotkey(), netuid, uids, values, salt, versionKey),
      onChainCommits: (netuid) => ledger.onChainCommits(netuid, self.requireHotkey()),
      // The local beacon is read in `open`, before any submission.
      get timelock() {
        const beacon = self.beacon;
        if (!beacon || !self.blockTimeMs) return undefined;
        return {
          beacon,
          blockTimeSeconds: self.blockTimeMs / 1000,
          nowSeconds: () => self.clock.now() / 1000,
          commitTimelockedWeights: (netuid: number, commit: Uint8Array, revealRound: number, version: number) =>
            ledger.commitTimelockedWeights(self.requireHotkey(), netuid, commit, revealRound, version),
        };
      },
    };
  }

  // ---------------------------------------------------------------- Chain

  currentBlock(): Promise<number> {
    return this.ledger.currentBlock();
  }

  /** Emits the current block whenever it changes (the latest only: with millisecond blocks some are skipped). */
  onBlock(listener: (block: number) => void): () => void {
    const stop = new AbortController();
    this.streams.add(stop);
    let last = -1;
    const loop = async () => {
      while (!stop.signal.aborted) {
        try {
          const block = await this.ledger.currentBlock();
          if (block !== last) {
            last = block;
            listener(block);
          }
          const wait = await this.ledger.msUntilBlock(block + 1);
          await this.clock.sleep(Math.max(MIN_BLOCK_POLL_MS, wait), stop.signal);
        } catch (error) {
          if (stop.signal.aborted) return;
          this.log?.error({ err: error }, 'local chain block stream failed; retrying');
          await this.clock.sleep(1000, stop.signal).catch(() => undefined);
        }
      }
    };
    void loop();
    return () => {
      stop.abort();
      this.streams.delete(stop);
    };
  }

  metagraph(netuid: number): Promise<Metagraph> {
    return this.ledger.metagraph(netuid);
  }

  hyperparameters(netuid: number): Promise<SubnetHyperparameters> {
    return this.ledger.hyperparameters(netuid);
  }

  submitWeights(
    netuid: number,
    weights: WeightVector,
    versionKey?: number,
    options?: { readonly submissionKey?: string },
  ): Promise<WeightSubmissionResult> {
    return this.submitter.submit(netuid, weights, versionKey, options);
  }

  revealPendingWeights(netuid: number): Promise<RevealResult[]> {
    return this.submitter.revealPending(netuid);
  }

  weights(netuid: number): Promise<ReadonlyMap<number, WeightVector>> {
    return this.ledger.weights(netuid);
  }

  async serveAxon(netuid: number, axon: Omit<AxonInfo, 'ipType'> & { ipType?: 4 | 6 }): Promise<void> {
    const hotkey = this.requireHotkey();
    // Like the SDK: do not spend a serve (rate-limited) on an unchanged axon.
    const mine = (await this.ledger.metagraph(netuid)).neurons.find((n) => n.hotkey === hotkey);
    const current = mine?.axon;
    if (
      current &&
      current.ip === axon.ip &&
      current.port === axon.port &&
      current.protocol === axon.protocol &&
      current.version === axon.version
    )
      return;
    const block = await this.ledger.serveAxon(hotkey, netuid, axon);
    this.log?.info({ netuid, hotkey, ip: axon.ip, port: axon.port, block }, 'axon served');
  }

  async commitment(netuid: number, hotkey: string): Promise<string | null> {
    return (await this.ledger.commitment(netuid, hotkey))?.data ?? null;
  }

  async setCommitment(netuid: number, data: string): Promise<void> {
    const hotkey = this.requireHotkey();
    const block = await this.ledger.setCommitment(hotkey, netuid, data);
    this.log?.info({ netuid, hotkey, block, bytes: new TextEncoder().encode(data).length }, 'commitment set');
  }

  /** `associate_evm_key` for this chain's hotkey (see LocalLedger.associateEvmKey). */
  async associateEvmKey(netuid: number, evmKey: string, blockNumber: number, signature: `0x${string}`): Promise<void> {
    const hotkey = this.requireHotkey();
    const block = await this.ledger.associateEvmKey(hotkey, netuid, evmKey, blockNumber, signature);
    this.log?.info({ netuid, hotkey, evmKey, block }, 'EVM key associated');
  }

  associatedEvmAddresses(netuid: number): Promise<ReadonlyMap<number, string>> {
    return this.ledger.associatedEvmAddresses(netuid);
  }

  /** Stops block streams. The store stays open unless the chain owns it (`ownsStore`). */
  async close(): Promise<void> {
    for (const stream of this.streams) stream.abort();
    this.streams.clear();
    if (this.ownedStore) {
      const store = this.ownedStore;
      this.ownedStore = null;
      await store.close();
    }
  }

  // ---------------------------------------------------------------- admin (devnet owner, CLI)

  registerNeuron(options: Omit<RegisterNeuronOptions, 'netuid'> & { netuid?: number }): Promise<{ uid: number; block: number }> {
    return this.ledger.registerNeuron({ ...options, netuid: this.netuidOr(options.netuid) });
  }

  addStake(options: Omit<AddStakeOptions, 'netuid'> & { netuid?: number }): Promise<{ alpha: number; tao: number }> {
    return this.ledger.addStake({ ...options, netuid: this.netuidOr(options.netuid) });
  }

  setValidatorPermit(options: { netuid?: number; hotkey: string; permit: boolean }): Promise<void> {
    return this.ledger.setValidatorPermit(this.netuidOr(options.netuid), options.hotkey, options.permit);
  }

  setHyperparameters(netuid: number, params: Partial<LocalSubnetParams>): Promise<void> {
    return this.ledger.setHyperparameters(netuid, params);
  }
}
