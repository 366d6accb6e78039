/**
 * `Chain` on a real subtensor node (finney, test, or a node URL) through @polkadot/api 16.5.
 *
 * - @polkadot/api is imported lazily in `connect` (it costs ~0.4 s), so commands that never touch a
 *   subtensor node do not pay for it.
 * - Everything is typed by the chain's own metadata (V15 carries the runtime-API signatures), so no
 *   custom type definitions are needed.
 * - Weights go through the shared WeightSubmitter (rate limit, SDK conversion, CR-v2 commits kept in
 *   the store, v4 drand-timelocked commits for quicknet where the runtime has them).
 * - Writes are signed by the hotkey, wait for inclusion (or finalization), and map the chain's
 *   verdict to `ChainError` with subtensor's error name: dispatch errors through the metadata
 *   (`registry.findMetaError`), transaction-pool rejections through `CustomTransactionError`.
 */
import type { ApiPromise, SubmittableResult } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec } from '@polkadot/types/types';
import { u8aToHex, u8aToString } from '@polkadot/util';
import { z } from 'zod';
import type {
  AxonInfo,
  Chain,
  Logger,
  Metagraph,
  RevealResult,
  Store,
  SubnetHyperparameters,
  WeightSubmissionResult,
  WeightVector,
} from '../../contracts/index.js';
import { ChainError, CommitmentError, CUSTOM_TRANSACTION_ERRORS } from '../errors.js';
import { ipToInt } from '../ip.js';
import { MAX_COMMITMENT_BYTES } from '../manifest-commitment.js';
import { WeightCommitStore } from '../weight-commit-store.js';
import { WeightSubmitter, type OnChainWeightCommit, type WeightsBackend, type WeightsChainState } from '../weight-submitter.js';
import type { EpochScheduleState } from '../epoch-schedule.js';
import { QUICKNET } from '../timelock/beacon.js';
import { parseRuntimeMetagraph, toHyperparameters, toMetagraph } from './metagraph.js';
import { subtensorEndpoint } from './networks.js';
import { misdeclaredExtensions } from './transaction-extensions.js';
import { definedFields } from '../../object/defined-fields.js';

/** The signing side of a horde `Hotkey` (core/src/keys). */
export interface ChainSigner {
  readonly ss58: string;
  readonly pair: KeyringPair;
}

export interface SubtensorChainOptions {
  /** `finney`, `test`, or a subtensor node's `ws://`/`wss://` URL. */
  readonly network: string;
  readonly hotkey: ChainSigner;
  /** Where CR-v2 commits (salt, weights) are kept until revealed. */
  readonly store: Store;
  readonly logger?: Logger;
  /** Resolve writes on finalization instead of inclusion (slower, reorg-proof). Default false. */
  readonly waitForFinalization?: boolean;
  /** Longest wait for a write to land, in ms (default 120 000: ten blocks). */
  readonly submitTimeoutMs?: number;
  /** First wait before re-trying a refused or lost weight submission, in ms (doubles; default 2 000). */
  readonly weightRetryBackoffMs?: number;
}

/**
 * subtensor's own transaction extensions carry no data (`type = Null`, `additionalSigned = Null` in
 * the metadata); declaring them stops @polkadot/api warning that it does not know them. finney
 * (2026) added `SudoTransactionExtension` and `CheckShieldedTxValidity`, both empty as well: real
 * finney extrinsics sign method ‖ era ‖ nonce ‖ tip ‖ mode, then spec, tx version, genesis, block
 * hash and the metadata hash option, nothing else (see timelock/__fixtures__/finney-timelocked-commit.json).
 */
export const SUBTENSOR_SIGNED_EXTENSIONS = {
  SubtensorTransactionExtension: { extrinsic: {}, payload: {} },
  DrandPriority: { extrinsic: {}, payload: {} },
  SudoTransactionExtension: { extrinsic: {}, payload: {} },
  CheckShieldedTxValidity: { extrinsic: {}, payload: {} },
};

/** finney's block time: turns a predicted reveal block into a drand round. */
const SUBTENSOR_BLOCK_SECONDS = 12;

const uint = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => Number(v));
const weightsStateSchema = z.tuple([
  uint, // Tempo
  uint, // WeightsSetRateLimit
  uint, // MinAllowedWeights
  uint, // MaxWeightsLimit
  z.boolean(), // CommitRevealWeightsEnabled
  uint, // RevealPeriodEpochs
  uint, // WeightsVersionKey
  uint, // SubnetworkN
  z.boolean(), // NetworksAdded
  uint.nullable(), // Uids(netuid, hotkey)
  z.array(uint), // LastUpdate(netuid)
]);
const weightCommitsSchema = z.array(z.tuple([z.string(), uint, uint, uint])).nullable();
const weightsRowSchema = z.array(z.tuple([uint, uint]));
const axonSchema = z
  .object({
    block: uint,
    version: uint,
    ip: z.union([z.number(), z.string()]).transform((v) => BigInt(v)),
    port: uint,
    ipType: uint,
    protocol: uint,
  })
  .nullable();

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A transaction-pool rejection (`author_submitAndWatchExtrinsic` error) as a ChainError. */
export function poolRejection(error: unknown): ChainError {
  const message = messageOf(error);
  const custom = /Custom error: (\d+)/.exec(message);
  if (custom) {
    const name = CUSTOM_TRANSACTION_ERRORS[Number(custom[1])] ?? `CustomTransactionError${custom[1]}`;
    return new ChainError(name, `the transaction pool refused the call: ${name} (${message})`, { cause: error });
  }
  return new ChainError('TransactionRejected', `the transaction pool refused the call: ${message}`, { cause: error });
}

export class SubtensorChain implements Chain {
  readonly network: string;
  readonly hotkey: string;
  private readonly submitter: WeightSubmitter;
  private readonly log: Logger | undefined;
  private readonly waitForFinalization: boolean;
  private readonly submitTimeoutMs: number;
  private readonly unsubscribers = new Set<() => void>();

  private constructor(
    private readonly api: ApiPromise,
    private readonly signer: ChainSigner,
    options: SubtensorChainOptions,
  ) {
    this.network = options.network;
    this.hotkey = signer.ss58;
    this.log = options.logger;
    this.waitForFinalization = options.waitForFinalization ?? false;
    this.submitTimeoutMs = options.submitTimeoutMs ?? 120_000;
    this.submitter = new WeightSubmitter({
      backend: this.backend(),
      commits: new WeightCommitStore(options.store.db),
      logger: this.log,
      ...(options.weightRetryBackoffMs === undefined ? {} : { backoffMs: options.weightRetryBackoffMs }),
    });
  }

  /** Connects to the node and reads its metadata. */
  static async connect(options: SubtensorChainOptions): Promise<SubtensorChain> {
    const endpoint = subtensorEndpoint(options.network);
    const { ApiPromise, WsProvider } = await import('@polkadot/api');
    const provider = new WsProvider(endpoint);
    try {
      const api = await ApiPromise.create({
        provider,
        noInitWarn: true,
        throwOnConnect: true,
        signedExtensions: SUBTENSOR_SIGNED_EXTENSIONS,
      });
      options.logger?.info(
        { network: options.network, endpoint, chain: api.runtimeChain.toString(), specVersion: api.runtimeVersion.specVersion.toNumber() },
        'connected to subtensor',
      );
      const chain = new SubtensorChain(api, options.hotkey, options);
      const problem = chain.signingProblem();
      // Reads still work; every write is refused until horde knows how to sign for this runtime.
      if (problem) options.logger?.error({ network: options.network, code: problem.code }, problem.message);
      return chain;
    } catch (error) {
      await provider.disconnect().catch(() => undefined);
      throw new ChainError('ConnectionFailed', `cannot connect to subtensor at ${endpoint}: ${messageOf(error)}`, { cause: error });
    }
  }

  // ---------------------------------------------------------------- metadata-typed access

  private storage(section: string, method: string) {
    const entry = this.api.query[section]?.[method];
    if (!entry) throw new ChainError('UnsupportedRuntime', `this chain has no storage ${section}.${method}; is it a subtensor node?`);
    return entry;
  }

  private tx(section: string, method: string, ...args: unknown[]): SubmittableExtrinsic<'promise'> {
    const fn = this.api.tx[section]?.[method];
    if (!fn) throw new ChainError('UnsupportedRuntime', `this chain has no call ${section}.${method}; is it a subtensor node?`);
    return fn(...args);
  }

  private runtimeCall(section: string, method: string) {
    const fn = this.api.call[section]?.[method];
    if (!fn) throw new ChainError('UnsupportedRuntime', `this chain has no runtime API ${section}.${method}; is it a subtensor node?`);
    return fn;
  }

  // ---------------------------------------------------------------- reads

  async currentBlock(): Promise<number> {
    return (await this.api.rpc.chain.getHeader()).number.toNumber();
  }

  async chainTime(): Promise<number> {
    const now = await this.api.query['timestamp']!['now']!();
    return Number((now as unknown as { toString(): string }).toString());
  }

  onBlock(listener: (block: number) => void): () => void {
    let stopped = false;
    let unsubscribe: (() => void) | undefined;
    const stop = () => {
      stopped = true;
      unsubscribe?.();
      this.unsubscribers.delete(stop);
    };
    this.unsubscribers.add(stop);
    this.api.rpc.chain
      .subscribeNewHeads((header) => listener(header.number.toNumber()))
      .then((unsub) => {
        if (stopped) unsub();
        else unsubscribe = unsub;
      })
      .catch((error: unknown) => this.log?.error({ err: messageOf(error) }, 'block subscription failed'));
    return stop;
  }

  private async runtimeMetagraph(netuid: number) {
    const reply = (await this.runtimeCall('subnetInfoRuntimeApi', 'getMetagraph')(netuid)) as Codec & { isNone: boolean; unwrap(): Codec };
    if (reply.isNone) throw new ChainError('SubnetNotExists', `subnet ${netuid} does not exist on ${this.network}`);
    return parseRuntimeMetagraph(reply.unwrap().toPrimitive());
  }

  async metagraph(netuid: number): Promise<Metagraph> {
    return toMetagraph(await this.runtimeMetagraph(netuid));
  }

  async hyperparameters(netuid: number): Promise<SubnetHyperparameters> {
    return (await this.weightsState(netuid)).hyperparameters;
  }

  /** Hyperparameters, this hotkey's uid and last update, and the subnet size, in one storage read. */
  private async weightsState(netuid: number): Promise<WeightsChainState> {
    const q = (method: string) => this.storage('subtensorModule', method);
    const [header, values] = await Promise.all([
      this.api.rpc.chain.getHeader(),
      this.api.queryMulti([
        [q('tempo'), netuid],
        [q('weightsSetRateLimit'), netuid],
        [q('minAllowedWeights'), netuid],
        [q('maxWeightsLimit'), netuid],
        [q('commitRevealWeightsEnabled'), netuid],
        [q('revealPeriodEpochs'), netuid],
        [q('weightsVersionKey'), netuid],
        [q('subnetworkN'), netuid],
        [q('networksAdded'), netuid],
        [q('uids'), [netuid, this.hotkey]],
        // LastUpdate is keyed by NetUidStorageIndex: the netuid itself for mechanism 0.
        [q('lastUpdate'), netuid],
      ]),
    ]);
    const parsed = weightsStateSchema.safeParse(values.map((v) => v.toPrimitive()));
    if (!parsed.success) throw new ChainError('InvalidChainReply', `unexpected subnet storage values: ${parsed.error.message}`);
    const [
      tempo,
      weightsRateLimit,
      minAllowedWeights,
      maxWeightsLimit,
      commitRevealEnabled,
      revealPeriodEpochs,
      weightsVersion,
      subnetSize,
      exists,
      uid,
      lastUpdates,
    ] = parsed.data;
    if (!exists) throw new ChainError('SubnetNotExists', `subnet ${netuid} does not exist on ${this.network}`);
    const head = header.number.toNumber();
    const extra = await this.commitRevealState(netuid, head, tempo);
    return {
      // A transaction sent now is validated and executed at best + 1.
      block: head + 1,
      hyperparameters: {
        tempo,
        weightsRateLimit,
        minAllowedWeights,
        maxWeightsLimit,
        commitRevealEnabled,
        revealPeriodEpochs,
        weightsVersion,
        ...(extra.commitRevealVersion === undefined ? {} : { commitRevealVersion: extra.commitRevealVersion }),
      },
      uid,
      lastUpdate: uid === null ? 0 : (lastUpdates[uid] ?? 0),
      subnetSize,
      ...definedFields({ epochSchedule: extra.epochSchedule }),
      ...(extra.timestampSeconds === undefined ? {} : { timestampSeconds: extra.timestampSeconds }),
    };
  }

  /**
   * What only some runtimes have: `CommitRevealWeightsVersion`, the stateful epoch schedule
   * (`SubnetEpochIndex`, `LastEpochBlock`, `PendingEpochAt`, `BlocksSinceLastStep`) and the head's
   * timestamp. Each is read only where the metadata declares it, so older nodes still work.
   */
  private async commitRevealState(
    netuid: number,
    head: number,
    tempo: number,
  ): Promise<{ commitRevealVersion?: number; epochSchedule?: EpochScheduleState; timestampSeconds?: number }> {
    const module = this.api.query['subtensorModule'] ?? {};
    const has = (name: string) => typeof module[name] === 'function';
    const number = (codec: Codec) => Number(codec.toPrimitive());
    const out: { commitRevealVersion?: number; epochSchedule?: EpochScheduleState; timestampSeconds?: number } = {};
    if (has('commitRevealWeightsVersion')) out.commitRevealVersion = number(await module['commitRevealWeightsVersion']!());
    if (has('subnetEpochIndex') && has('lastEpochBlock') && has('pendingEpochAt') && has('blocksSinceLastStep')) {
      const [index, last, pending, since] = await Promise.all(
        ['subnetEpochIndex', 'lastEpochBlock', 'pendingEpochAt', 'blocksSinceLastStep'].map(async (name) =>
          number(await module[name]!(netuid)),
        ),
      );
      out.epochSchedule = {
        block: head,
        tempo,
        subnetEpochIndex: index!,
        lastEpochBlock: last!,
        pendingEpochAt: pending!,
        blocksSinceLastStep: since!,
      };
    }
    const now = this.api.query['timestamp']?.['now'];
    if (typeof now === 'function') {
      const ms = number(await now());
      if (ms > 0) out.timestampSeconds = ms / 1000;
    }
    return out;
  }

  async weights(netuid: number): Promise<ReadonlyMap<number, WeightVector>> {
    const entries = await this.storage('subtensorModule', 'weights').entries(netuid);
    const out = new Map<number, WeightVector>();
    for (const [key, value] of entries) {
      const uid = Number(key.args[1]?.toPrimitive());
      const row = weightsRowSchema.safeParse(value.toPrimitive());
      if (!row.success || !Number.isInteger(uid))
        throw new ChainError('InvalidChainReply', `unexpected Weights entry for uid ${String(key.args[1])}`);
      const total = row.data.reduce((acc, [, v]) => acc + v, 0);
      if (row.data.length > 0)
        out.set(
          uid,
          row.data.map(([dest, v]) => ({ uid: dest, weight: total > 0 ? v / total : 0 })),
        );
    }
    return out;
  }

  /** `SubtensorModule.AssociatedEvmAddress` (netuid, uid) → (H160, block): uid → H160. */
  async associatedEvmAddresses(netuid: number): Promise<ReadonlyMap<number, string>> {
    const entries = await this.storage('subtensorModule', 'associatedEvmAddress').entries(netuid);
    const out = new Map<number, string>();
    for (const [key, value] of entries) {
      const uid = Number(key.args[1]?.toPrimitive());
      const pair = value.toPrimitive() as unknown;
      const address = Array.isArray(pair) ? pair[0] : null;
      if (!Number.isInteger(uid) || typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address)) {
        throw new ChainError('InvalidChainReply', `unexpected AssociatedEvmAddress entry for uid ${String(key.args[1])}`);
      }
      out.set(uid, address);
    }
    return out;
  }

  async associateEvmKey(netuid: number, evmKey: string, blockNumber: number, signature: `0x${string}`): Promise<void> {
    await this.send(this.tx('subtensorModule', 'associateEvmKey', netuid, evmKey, blockNumber, signature), 'associating an EVM key');
  }

  async commitment(netuid: number, hotkey: string): Promise<string | null> {
    const reply = (await this.storage('commitments', 'commitmentOf')(netuid, hotkey)) as Codec & {
      isNone: boolean;
      unwrap(): { info: { fields: Array<Codec & { type: string; value: Codec }> } };
    };
    if (reply.isNone) return null;
    // Like the SDK's decode_metadata: the first field holds the text.
    const field = reply.unwrap().info.fields[0];
    if (!field) return '';
    if (field.type.startsWith('Raw') || field.type === 'BigRaw') {
      // toU8a(true): the bytes without a length prefix. Invalid UTF-8 is replaced, not fatal.
      return u8aToString(field.value.toU8a(true));
    }
    return null;
  }

  private async onChainCommits(netuid: number): Promise<OnChainWeightCommit[]> {
    const value = await this.storage('subtensorModule', 'weightCommits')(netuid, this.hotkey);
    const parsed = weightCommitsSchema.safeParse(value.toPrimitive());
    if (!parsed.success) throw new ChainError('InvalidChainReply', `unexpected WeightCommits value: ${parsed.error.message}`);
    return (parsed.data ?? []).map(([hash, commitBlock, firstRevealBlock, lastRevealBlock]) => ({
      hash,
      commitBlock,
      firstRevealBlock,
      lastRevealBlock,
    }));
  }

  // ---------------------------------------------------------------- writes

  /**
   * Why horde cannot sign for the connected runtime, if it cannot: a transaction extension whose
   * metadata says it carries data that @polkadot/api would leave out (checked against the current
   * metadata, so a runtime upgrade is seen at the next write).
   */
  private signingProblem(): ChainError | null {
    const wrong = misdeclaredExtensions(this.api.registry, this.api.runtimeMetadata, Object.keys(SUBTENSOR_SIGNED_EXTENSIONS));
    if (wrong.length === 0) return null;
    const list = wrong.map((e) => `${e.name} (adds ${e.explicit}, signs ${e.implicit})`).join(', ');
    return new ChainError(
      'UnsupportedTransactionExtension',
      `the runtime's transaction extensions ${list} carry data horde does not know how to sign; nothing was sent (a horde update is needed)`,
    );
  }

  /** Signs with the hotkey, submits, and resolves with the block the call landed in. */
  private send(tx: SubmittableExtrinsic<'promise'>, what: string): Promise<number> {
    const call = `${tx.method.section}.${tx.method.method}`;
    const problem = this.signingProblem();
    if (problem) return Promise.reject(new ChainError(problem.code, `${what}: ${problem.message}`));
    return new Promise<number>((resolve, reject) => {
      let unsubscribe: (() => void) | undefined;
      let done = false;
      const finish = (error: Error | null, block?: number) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe?.();
        if (error) reject(error);
        else resolve(block!);
      };
      const timer = setTimeout(
        () =>
          finish(
            new ChainError(
              'SubmitTimeout',
              `${what}: ${call} was not ${this.waitForFinalization ? 'finalized' : 'included'} within ${this.submitTimeoutMs} ms`,
            ),
          ),
        this.submitTimeoutMs,
      );
      tx.signAndSend(this.signer.pair, { nonce: -1 }, (result) => {
        const { status } = result;
        if (status.isInvalid || status.isDropped || status.isUsurped) {
          finish(new ChainError('TransactionRejected', `${what}: ${call} was ${status.type.toLowerCase()} by the node`));
          return;
        }
        const landed = this.waitForFinalization ? status.isFinalized : status.isInBlock || status.isFinalized;
        if (!landed) return;
        if (result.internalError) {
          finish(
            new ChainError('InvalidChainReply', `${what}: cannot read the events of the block: ${result.internalError.message}`, {
              cause: result.internalError,
            }),
          );
          return;
        }
        if (result.dispatchError) {
          finish(this.dispatchError(result.dispatchError, what, call));
          return;
        }
        finish(null, (result as SubmittableResult).blockNumber?.toNumber() ?? 0);
      })
        .then((unsub) => {
          if (done) unsub();
          else unsubscribe = unsub;
        })
        .catch((error: unknown) => finish(poolRejection(error)));
    });
  }

  private dispatchError(error: NonNullable<SubmittableResult['dispatchError']>, what: string, call: string): ChainError {
    if (error.isModule) {
      const meta = this.api.registry.findMetaError(error.asModule);
      return new ChainError(
        meta.name,
        `${what}: ${call} failed with ${meta.section}.${meta.name}${meta.docs.length ? `: ${meta.docs.join(' ')}` : ''}`,
      );
    }
    return new ChainError(error.type, `${what}: ${call} failed with ${error.type}`);
  }

  private backend(): WeightsBackend {
    return {
      network: this.network,
      hotkey: this.hotkey,
      nextBlock: async () => (await this.currentBlock()) + 1,
      weightsState: (netuid) => this.weightsState(netuid),
      setWeights: (netuid, uids, values, versionKey) =>
        this.send(this.tx('subtensorModule', 'setWeights', netuid, uids, values, versionKey), 'set weights'),
      commitWeights: (netuid, hash) => this.send(this.tx('subtensorModule', 'commitWeights', netuid, hash), 'commit weights'),
      revealWeights: (netuid, uids, values, salt, versionKey) =>
        this.send(this.tx('subtensorModule', 'revealWeights', netuid, uids, values, salt, versionKey), 'reveal weights'),
      onChainCommits: (netuid) => this.onChainCommits(netuid),
      ...(typeof this.api.tx['subtensorModule']?.['commitTimelockedWeights'] === 'function'
        ? {
            timelock: {
              beacon: QUICKNET,
              blockTimeSeconds: SUBTENSOR_BLOCK_SECONDS,
              nowSeconds: () => Date.now() / 1000,
              commitTimelockedWeights: (netuid: number, commit: Uint8Array, revealRound: number, version: number) =>
                // A hex string is taken as the bytes themselves (a Uint8Array would be read as already length-prefixed).
                this.send(
                  this.tx('subtensorModule', 'commitTimelockedWeights', netuid, u8aToHex(commit), revealRound, version),
                  'commit timelocked weights',
                ),
            },
          }
        : {}),
    };
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

  async serveAxon(netuid: number, axon: Omit<AxonInfo, 'ipType'> & { ipType?: 4 | 6 }): Promise<void> {
    const { ip, ipType } = ipToInt(axon.ip);
    if (axon.ipType !== undefined && axon.ipType !== ipType)
      throw new ChainError('InvalidIpType', `ip ${axon.ip} is not IPv${axon.ipType}`);
    // Like the SDK: an unchanged axon is not served again (serving is rate-limited).
    const current = axonSchema.safeParse((await this.storage('subtensorModule', 'axons')(netuid, this.hotkey)).toPrimitive());
    if (
      current.success &&
      current.data &&
      current.data.ip === ip &&
      current.data.port === axon.port &&
      current.data.ipType === ipType &&
      current.data.protocol === axon.protocol &&
      current.data.version === axon.version
    ) {
      return;
    }
    const block = await this.send(
      this.tx('subtensorModule', 'serveAxon', netuid, axon.version, ip, axon.port, ipType, axon.protocol, 0, 0),
      'serve axon',
    );
    this.log?.info({ netuid, hotkey: this.hotkey, ip: axon.ip, port: axon.port, block }, 'axon served');
  }

  async setCommitment(netuid: number, data: string): Promise<void> {
    const bytes = new TextEncoder().encode(data);
    if (bytes.length > MAX_COMMITMENT_BYTES)
      throw new CommitmentError(`a commitment holds at most ${MAX_COMMITMENT_BYTES} bytes; this one is ${bytes.length}`);
    // The SDK's publish_metadata: one field of type Raw<len>.
    const block = await this.send(
      this.tx('commitments', 'setCommitment', netuid, { fields: [{ [`Raw${bytes.length}`]: bytes }] }),
      'set commitment',
    );
    this.log?.info({ netuid, hotkey: this.hotkey, block, bytes: bytes.length }, 'commitment set');
  }

  async close(): Promise<void> {
    for (const stop of [...this.unsubscribers]) stop();
    await this.api.disconnect();
  }
}
