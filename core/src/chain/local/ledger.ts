/**
 * The state and rules of the embedded LocalChain, kept in the store (tables `chain_local_*`) so
 * every process that opens the same SQLite file or PostgreSQL database sees one chain.
 *
 * - Blocks come from the clock: `block = floor((now − genesisMs) / blockTimeMs)`, with genesis and
 *   block time written once by `init`. No process has to produce blocks.
 * - Epochs (incentive, emission) are computed lazily: before any write, and before reads that need
 *   them, every epoch up to the current block is processed in one transaction. Processing is
 *   idempotent (it records the last epoch done), so processes racing to do it agree.
 * - Extrinsic-like methods (`setWeights`, `commitWeights`, `revealWeights`, `serveAxon`,
 *   `setCommitment`) apply subtensor's checks in subtensor's order and fail with its error names
 *   (pallets/subtensor/src/subnets/weights.rs, serving.rs; pallets/commitments).
 */
import { randomBytes } from 'node:crypto';

import type { Knex } from 'knex';
import { decodeAddress } from '@polkadot/util-crypto';
import { getAddress } from 'viem';
import { verifyAssociation } from '../../collateral/association.js';
import type { AxonInfo, Clock, Metagraph, Neuron, SubnetHyperparameters, WeightVector } from '../../contracts/index.js';
import { weightCommitHash } from '../commit-hash.js';
import { epochIndex, firstBlockOfEpoch, revealWindow } from '../epochs.js';
import { ChainConfigError, ChainError, InvalidAddressError } from '../errors.js';
import { ipToInt } from '../ip.js';
import { MAX_COMMITMENT_BYTES } from '../manifest-commitment.js';
import type { BeaconInfo } from '../timelock/beacon.js';
import type { OnChainWeightCommit, WeightsChainState } from '../weight-submitter.js';
import { U16_MAX } from '../weight-conversion.js';
import { computeConsensus } from './consensus.js';
import { LocalTimelock, type TimelockedCommitRecord, type TimelockedReveal } from './timelock.js';
import { definedFields } from '../../object/defined-fields.js';

/** The weights extrinsics the LocalChain logs. */
export type LocalExtrinsicCall = 'set_weights' | 'commit_weights' | 'commit_timelocked_weights' | 'reveal_weights';

/** Hyperparameters of one LocalChain subnet (subtensor's names in the comments). */
export interface LocalSubnetParams {
  /** `Tempo`: an epoch is tempo + 1 blocks. */
  readonly tempo: number;
  /** `WeightsSetRateLimit`, blocks. */
  readonly weightsRateLimit: number;
  /** `CommitRevealWeightsEnabled`. */
  readonly commitRevealEnabled: boolean;
  /** `RevealPeriodEpochs`. */
  readonly revealPeriodEpochs: number;
  /** `MinAllowedWeights`. */
  readonly minAllowedWeights: number;
  /** `MaxWeightsLimit` (u16; 65535 = no limit). */
  readonly maxWeightsLimit: number;
  /** `WeightsVersionKey` (0 = any version accepted). */
  readonly weightsVersionKey: number;
  /** `ActivityCutoff`, blocks since the last weight update before a neuron counts as inactive. */
  readonly activityCutoff: number;
  /** `StakeThreshold`: total stake a hotkey needs to set weights. */
  readonly stakeThreshold: number;
  /** `ServingRateLimit`, blocks between two `serve_axon` of a hotkey (0 = none). */
  readonly servingRateLimit: number;
  /** Alpha emitted per block, split at each epoch. */
  readonly emissionPerBlock: number;
  /** `CommitRevealWeightsVersion`: 4 = drand-timelocked commits revealed by the chain (local beacon), else hash commits. */
  readonly commitRevealVersion: number;
}

/**
 * Defaults: subtensor's (tempo 360, rate limit 100, commit-reveal on, reveal period 1, activity
 * cutoff 5000, serving rate limit 50), except `minAllowedWeights` 1 (subtensor's initial 1024 means
 * "weights on every uid"; a devnet validator should be able to weight only the miners it tested).
 */
export const DEFAULT_LOCAL_SUBNET: LocalSubnetParams = {
  tempo: 360,
  weightsRateLimit: 100,
  commitRevealEnabled: true,
  revealPeriodEpochs: 1,
  minAllowedWeights: 1,
  maxWeightsLimit: U16_MAX,
  weightsVersionKey: 0,
  activityCutoff: 5000,
  stakeThreshold: 0,
  servingRateLimit: 50,
  emissionPerBlock: 1,
  commitRevealVersion: 3,
};

export interface LocalChainInitOptions {
  /** Milliseconds per block (12 000 like subtensor; tests and the devnet use less). */
  readonly blockTimeMs?: number;
  /** `TaoWeight`: total stake = alpha + tao × taoWeight (subtensor: 0.18). */
  readonly taoWeight?: number;
  /** Subnets to create, with any hyperparameters that differ from the defaults. */
  readonly subnets: ReadonlyArray<{ readonly netuid: number } & Partial<LocalSubnetParams>>;
  /** Wipe an existing LocalChain in this store first. Without it, `init` on an initialised store fails. */
  readonly reset?: boolean;
}

export interface LocalChainMeta {
  readonly genesisMs: number;
  readonly blockTimeMs: number;
  readonly taoWeight: number;
}

export interface RegisterNeuronOptions {
  readonly netuid: number;
  readonly hotkey: string;
  readonly coldkey: string;
  /** Alpha stake on the subnet (whole units). */
  readonly stake?: number;
  /** Root TAO stake counted at `taoWeight` (whole units). */
  readonly taoStake?: number;
  /** subtensor hands permits to the top stakes each epoch; here the operator decides. Default false. */
  readonly validatorPermit?: boolean;
}

/** An axon as `serve_axon` takes it. */
export interface AxonOptions {
  readonly ip: string;
  readonly port: number;
  readonly ipType?: 4 | 6;
  readonly protocol: number;
  readonly version: number;
}

/** Rows per statement of a bulk registration (PostgreSQL allows 65,535 bind parameters). */
const BULK_CHUNK = 500;

/** The row of a newly registered neuron. */
function neuronColumns(options: RegisterNeuronOptions, uid: number, block: number) {
  return {
    netuid: options.netuid,
    uid,
    hotkey: options.hotkey,
    coldkey: options.coldkey,
    alpha_stake: options.stake ?? 0,
    tao_stake: options.taoStake ?? 0,
    validator_permit: options.validatorPermit ?? false,
    registered_block: block,
    // subtensor sets LastUpdate at registration, which starts the activity clock.
    last_update: block,
  };
}

/** `serve_axon`'s checks of the axon itself, and the columns it sets. */
function axonColumns(axon: AxonOptions, block: number) {
  let encoded: { ipType: 4 | 6 };
  try {
    encoded = ipToInt(axon.ip);
  } catch {
    throw new ChainError('InvalidIpAddress', `${JSON.stringify(axon.ip)} is not an IP address`);
  }
  if (axon.ipType !== undefined && axon.ipType !== encoded.ipType) {
    throw new ChainError('InvalidIpType', `ip ${axon.ip} is not IPv${axon.ipType}`);
  }
  if (!Number.isInteger(axon.port) || axon.port <= 0 || axon.port > 65535)
    throw new ChainError('InvalidPort', `port ${axon.port} is not a valid port`);
  return {
    axon_ip: axon.ip,
    axon_port: axon.port,
    axon_ip_type: encoded.ipType,
    axon_protocol: axon.protocol,
    axon_version: axon.version,
    axon_block: block,
  };
}

/** What `registerNeuron` checks before it writes anything. */
function checkNeuronOptions(options: RegisterNeuronOptions): void {
  checkAddress(options.hotkey, 'hotkey');
  checkAddress(options.coldkey, 'coldkey');
  if (!((options.stake ?? 0) >= 0) || !((options.taoStake ?? 0) >= 0)) throw new ChainConfigError('stake must be ≥ 0');
}

export interface AddStakeOptions {
  readonly netuid: number;
  readonly hotkey: string;
  readonly alpha?: number;
  readonly tao?: number;
}

const LOCAL_TABLES = [
  'chain_local_evm_associations',
  'chain_local_timelocked_commits',
  'chain_local_commitments',
  'chain_local_weight_commits',
  'chain_local_weights',
  'chain_local_neurons',
  'chain_local_subnets',
  'chain_local_meta',
] as const;

/** Most unrevealed commits a hotkey may have (subtensor: `commits.len() < 10`). */
const MAX_UNREVEALED_COMMITS = 10;

interface SubnetRow {
  netuid: number;
  tempo: number;
  weights_rate_limit: number | string;
  commit_reveal_enabled: boolean | number;
  reveal_period_epochs: number | string;
  min_allowed_weights: number;
  max_weights_limit: number;
  weights_version_key: number | string;
  activity_cutoff: number;
  stake_threshold: number;
  serving_rate_limit: number | string;
  emission_per_block: number;
  commit_reveal_version: number;
  last_epoch: number | string;
  last_epoch_block: number | string;
}

interface NeuronRow {
  netuid: number;
  uid: number;
  hotkey: string;
  coldkey: string;
  alpha_stake: number;
  tao_stake: number;
  validator_permit: boolean | number;
  registered_block: number | string;
  last_update: number | string;
  axon_ip: string | null;
  axon_port: number;
  axon_ip_type: number;
  axon_protocol: number;
  axon_version: number | string;
  axon_block: number | string;
  incentive: number;
  dividends: number;
  consensus: number;
  emission: number;
  emission_total: number;
}

interface CommitRow {
  id: number;
  commit_hash: string;
  commit_block: number | string;
  first_reveal_block: number | string;
  last_reveal_block: number | string;
}

function subnetParams(row: SubnetRow): LocalSubnetParams {
  return {
    tempo: Number(row.tempo),
    weightsRateLimit: Number(row.weights_rate_limit),
    commitRevealEnabled: Boolean(row.commit_reveal_enabled),
    revealPeriodEpochs: Number(row.reveal_period_epochs),
    minAllowedWeights: Number(row.min_allowed_weights),
    maxWeightsLimit: Number(row.max_weights_limit),
    weightsVersionKey: Number(row.weights_version_key),
    activityCutoff: Number(row.activity_cutoff),
    stakeThreshold: Number(row.stake_threshold),
    servingRateLimit: Number(row.serving_rate_limit),
    emissionPerBlock: Number(row.emission_per_block),
    commitRevealVersion: Number(row.commit_reveal_version),
  };
}

function subnetColumns(params: Partial<LocalSubnetParams>): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  const map: Record<keyof LocalSubnetParams, string> = {
    tempo: 'tempo',
    weightsRateLimit: 'weights_rate_limit',
    commitRevealEnabled: 'commit_reveal_enabled',
    revealPeriodEpochs: 'reveal_period_epochs',
    minAllowedWeights: 'min_allowed_weights',
    maxWeightsLimit: 'max_weights_limit',
    weightsVersionKey: 'weights_version_key',
    activityCutoff: 'activity_cutoff',
    stakeThreshold: 'stake_threshold',
    servingRateLimit: 'serving_rate_limit',
    emissionPerBlock: 'emission_per_block',
    commitRevealVersion: 'commit_reveal_version',
  };
  for (const [key, column] of Object.entries(map) as Array<[keyof LocalSubnetParams, string]>) {
    if (params[key] !== undefined) columns[column] = params[key];
  }
  return columns;
}

function checkParams(params: Partial<LocalSubnetParams>): void {
  const ints: Array<keyof LocalSubnetParams> = [
    'tempo',
    'weightsRateLimit',
    'revealPeriodEpochs',
    'minAllowedWeights',
    'maxWeightsLimit',
    'weightsVersionKey',
    'activityCutoff',
    'servingRateLimit',
  ];
  for (const key of ints) {
    const v = params[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0))
      throw new ChainConfigError(`${key} must be a whole number ≥ 0, got ${String(v)}`);
  }
  if (params.tempo !== undefined && params.tempo < 1) throw new ChainConfigError('tempo must be at least 1 block');
  if (params.maxWeightsLimit !== undefined && params.maxWeightsLimit > U16_MAX)
    throw new ChainConfigError('maxWeightsLimit is a u16 (≤ 65535)');
  if (params.revealPeriodEpochs !== undefined && params.revealPeriodEpochs < 1)
    throw new ChainConfigError('revealPeriodEpochs must be at least 1');
  if (
    params.commitRevealVersion !== undefined &&
    (!Number.isInteger(params.commitRevealVersion) || params.commitRevealVersion < 0 || params.commitRevealVersion > 0xffff)
  ) {
    throw new ChainConfigError(`commitRevealVersion must be a u16, got ${String(params.commitRevealVersion)}`);
  }
}

function checkAddress(address: string, what: string): void {
  try {
    decodeAddress(address);
  } catch {
    throw new InvalidAddressError(address, what);
  }
}

function isSelfWeight(uid: number, uids: readonly number[], values: readonly number[]): boolean {
  return values.length === 1 && uids[0] === uid;
}

/** subtensor's `vec_u16_max_upscale_to_u16` (in double precision rather than I32F32). */
function maxUpscale(values: readonly number[]): number[] {
  const max = Math.max(0, ...values);
  if (max === 0) return [...values];
  return values.map((v) => Math.round((v * U16_MAX) / max));
}

export class LocalLedger {
  private metaCache: LocalChainMeta | null = null;

  private readonly timelock: LocalTimelock;

  constructor(
    readonly db: Knex,
    private readonly clock: Clock,
  ) {
    this.timelock = new LocalTimelock(db, clock, () => this.meta());
  }

  // ---------------------------------------------------------------- setup and time

  /** Creates the chain (genesis now, so the current block is 1) and its subnets. */
  static async init(db: Knex, now: number, options: LocalChainInitOptions): Promise<LocalChainMeta> {
    const blockTimeMs = options.blockTimeMs ?? 12_000;
    if (!Number.isInteger(blockTimeMs) || blockTimeMs < 1)
      throw new ChainConfigError(`blockTimeMs must be a whole number ≥ 1, got ${blockTimeMs}`);
    const taoWeight = options.taoWeight ?? 0.18;
    if (options.subnets.length === 0) throw new ChainConfigError('a LocalChain needs at least one subnet');
    for (const subnet of options.subnets) {
      if (!Number.isInteger(subnet.netuid) || subnet.netuid < 0 || subnet.netuid > 65535)
        throw new ChainConfigError(`netuid must be a u16, got ${subnet.netuid}`);
      checkParams(subnet);
    }
    const meta: LocalChainMeta = { genesisMs: now - blockTimeMs, blockTimeMs, taoWeight };
    await db.transaction(async (trx) => {
      const existing = await trx('chain_local_meta').where({ id: 1 }).first();
      if (existing && !options.reset) {
        throw new ChainConfigError('this store already holds a LocalChain; pass reset (horde chain init --reset) to start a new one');
      }
      for (const table of LOCAL_TABLES) await trx(table).delete();
      await trx('chain_local_meta').insert({
        id: 1,
        genesis_ms: meta.genesisMs,
        block_time_ms: blockTimeMs,
        tao_weight: taoWeight,
        write_seq: 0,
        beacon_secret: randomBytes(32).toString('hex'),
      });
      for (const subnet of options.subnets) {
        const params = { ...DEFAULT_LOCAL_SUBNET, ...subnet };
        const block = 1;
        const epoch = epochIndex(subnet.netuid, params.tempo, block);
        await trx('chain_local_subnets').insert({
          netuid: subnet.netuid,
          ...subnetColumns(params),
          last_epoch: epoch,
          last_epoch_block: firstBlockOfEpoch(subnet.netuid, params.tempo, epoch),
        });
      }
    });
    return meta;
  }

  async isInitialised(): Promise<boolean> {
    return (await this.db('chain_local_meta').where({ id: 1 }).first()) !== undefined;
  }

  async meta(): Promise<LocalChainMeta> {
    if (this.metaCache) return this.metaCache;
    const row = (await this.db('chain_local_meta').where({ id: 1 }).first()) as
      { genesis_ms: number | string; block_time_ms: number; tao_weight: number } | undefined;
    if (!row) {
      throw new ChainConfigError('no LocalChain in this store yet; run `horde chain init` (or LocalChain.init) first');
    }
    this.metaCache = { genesisMs: Number(row.genesis_ms), blockTimeMs: Number(row.block_time_ms), taoWeight: Number(row.tao_weight) };
    return this.metaCache;
  }

  static blockAt(meta: LocalChainMeta, now: number): number {
    return Math.max(0, Math.floor((now - meta.genesisMs) / meta.blockTimeMs));
  }

  async currentBlock(): Promise<number> {
    return LocalLedger.blockAt(await this.meta(), this.clock.now());
  }

  /** Milliseconds until `block` starts (≤ 0 when it has). */
  async msUntilBlock(block: number): Promise<number> {
    const meta = await this.meta();
    return meta.genesisMs + block * meta.blockTimeMs - this.clock.now();
  }

  /**
   * One write transaction at the current block. The first statement takes the write lock (see
   * `write_seq` in the migration) so concurrent processes queue instead of failing.
   */
  private async write<T>(fn: (trx: Knex.Transaction, block: number) => Promise<T>): Promise<T> {
    const meta = await this.meta();
    return this.db.transaction(async (trx) => {
      await trx('chain_local_meta').where({ id: 1 }).increment('write_seq', 1);
      const block = LocalLedger.blockAt(meta, this.clock.now());
      return fn(trx, block);
    });
  }

  // ---------------------------------------------------------------- reads

  private async subnetRow(db: Knex, netuid: number): Promise<SubnetRow> {
    const row = (await db('chain_local_subnets').where({ netuid }).first()) as SubnetRow | undefined;
    if (!row) throw new ChainError('SubnetNotExists', `subnet ${netuid} does not exist on this LocalChain`);
    return row;
  }

  async subnets(): Promise<number[]> {
    const rows = (await this.db('chain_local_subnets').select('netuid').orderBy('netuid')) as Array<{ netuid: number }>;
    return rows.map((r) => Number(r.netuid));
  }

  async subnetParams(netuid: number): Promise<LocalSubnetParams> {
    return subnetParams(await this.subnetRow(this.db, netuid));
  }

  async hyperparameters(netuid: number): Promise<SubnetHyperparameters> {
    const p = await this.subnetParams(netuid);
    return {
      tempo: p.tempo,
      weightsRateLimit: p.weightsRateLimit,
      minAllowedWeights: p.minAllowedWeights,
      maxWeightsLimit: p.maxWeightsLimit,
      commitRevealEnabled: p.commitRevealEnabled,
      revealPeriodEpochs: p.revealPeriodEpochs,
      weightsVersion: p.weightsVersionKey,
      commitRevealVersion: p.commitRevealVersion,
    };
  }

  private async neuronRows(db: Knex, netuid: number): Promise<NeuronRow[]> {
    return (await db('chain_local_neurons').where({ netuid }).orderBy('uid')) as NeuronRow[];
  }

  private async neuronByHotkey(db: Knex, netuid: number, hotkey: string): Promise<NeuronRow | undefined> {
    return (await db('chain_local_neurons').where({ netuid, hotkey }).first()) as NeuronRow | undefined;
  }

  /** Brings incentive and emission up to the current block; cheap when nothing is due. */
  async syncEpochs(netuid: number): Promise<void> {
    const row = await this.subnetRow(this.db, netuid);
    const block = await this.currentBlock();
    // Timelocked commits waiting for their round may be due at any block, not only at epochs.
    const waiting = await this.db('chain_local_timelocked_commits').where({ netuid, status: 'pending' }).first('id');
    if (waiting !== undefined || epochIndex(netuid, Number(row.tempo), block) > Number(row.last_epoch)) {
      await this.write((trx, b) => this.processEpochs(trx, netuid, b));
    }
  }

  async metagraph(netuid: number): Promise<Metagraph> {
    await this.syncEpochs(netuid);
    const meta = await this.meta();
    const block = await this.currentBlock();
    const params = await this.subnetParams(netuid);
    const rows = await this.neuronRows(this.db, netuid);
    const neurons: Neuron[] = rows.map((r) => {
      const alpha = Number(r.alpha_stake);
      const tao = Number(r.tao_stake);
      const lastUpdate = Number(r.last_update);
      const axon: AxonInfo | null = r.axon_ip
        ? {
            ip: r.axon_ip,
            port: Number(r.axon_port),
            ipType: Number(r.axon_ip_type) === 6 ? 6 : 4,
            protocol: Number(r.axon_protocol),
            version: Number(r.axon_version),
          }
        : null;
      return {
        uid: Number(r.uid),
        hotkey: r.hotkey,
        coldkey: r.coldkey,
        stake: { alpha, tao, total: alpha + tao * meta.taoWeight },
        validatorPermit: Boolean(r.validator_permit),
        // subtensor: inactive once last_update + activity_cutoff < current block.
        active: lastUpdate + params.activityCutoff >= block,
        axon,
        incentive: Number(r.incentive),
        lastUpdate,
      };
    });
    return { netuid, block, neurons };
  }

  /** Emission figures the Chain contract does not carry (for `horde chain show`). */
  async emissions(netuid: number): Promise<Map<number, { dividends: number; consensus: number; emission: number; emissionTotal: number }>> {
    await this.syncEpochs(netuid);
    const rows = await this.neuronRows(this.db, netuid);
    return new Map(
      rows.map((r) => [
        Number(r.uid),
        {
          dividends: Number(r.dividends),
          consensus: Number(r.consensus),
          emission: Number(r.emission),
          emissionTotal: Number(r.emission_total),
        },
      ]),
    );
  }

  /** Weights by setter uid, each row normalised to sum 1. */
  async weights(netuid: number): Promise<Map<number, WeightVector>> {
    await this.syncEpochs(netuid);
    const out = new Map<number, WeightVector>();
    for (const [uid, list] of await this.rawWeights(netuid)) {
      const total = list.reduce((acc, e) => acc + e.value, 0);
      out.set(
        uid,
        list.map((e) => ({ uid: e.uid, weight: total > 0 ? e.value / total : 0 })),
      );
    }
    return out;
  }

  /** Raw (u16) weights by setter uid, as stored. */
  async rawWeights(netuid: number): Promise<Map<number, Array<{ uid: number; value: number }>>> {
    return this.rawWeightsIn(this.db, netuid);
  }

  async weightsState(netuid: number, hotkey: string): Promise<WeightsChainState> {
    const block = await this.currentBlock();
    const hyperparameters = await this.hyperparameters(netuid);
    const neuron = await this.neuronByHotkey(this.db, netuid, hotkey);
    const count = (await this.db('chain_local_neurons').where({ netuid }).count({ n: '*' }).first()) as { n: number | string } | undefined;
    const meta = await this.meta();
    return {
      block,
      hyperparameters,
      uid: neuron ? Number(neuron.uid) : null,
      lastUpdate: neuron ? Number(neuron.last_update) : 0,
      subnetSize: Number(count?.n ?? 0),
      // Writes land in `block`; the head (what a node would call best) is the block before.
      timestampSeconds: (meta.genesisMs + (block - 1) * meta.blockTimeMs) / 1000,
    };
  }

  async onChainCommits(netuid: number, hotkey: string): Promise<OnChainWeightCommit[]> {
    const rows = (await this.db('chain_local_weight_commits').where({ netuid, hotkey }).orderBy('id')) as CommitRow[];
    return rows.map((r) => ({
      hash: r.commit_hash,
      commitBlock: Number(r.commit_block),
      firstRevealBlock: Number(r.first_reveal_block),
      lastRevealBlock: Number(r.last_reveal_block),
    }));
  }

  async commitment(netuid: number, hotkey: string): Promise<{ data: string; block: number } | null> {
    const row = (await this.db('chain_local_commitments').where({ netuid, hotkey }).first()) as
      { data: string; block: number | string } | undefined;
    return row ? { data: row.data, block: Number(row.block) } : null;
  }

  // ---------------------------------------------------------------- epochs

  /**
   * Brings the subnet up to `block`: timelocked reveals and epochs in the order the chain would
   * run them (a reveal due before an epoch boundary counts in that epoch).
   */
  private async processEpochs(trx: Knex.Transaction, netuid: number, block: number): Promise<void> {
    await this.timelock.revealDue(
      trx,
      netuid,
      block,
      (upTo) => this.processEpochsOnly(trx, netuid, upTo),
      (reveal) => this.applyReveal(trx, netuid, reveal),
    );
    await this.processEpochsOnly(trx, netuid, block);
  }

  private async applyReveal(trx: Knex.Transaction, netuid: number, reveal: TimelockedReveal): Promise<void> {
    const params = subnetParams(await this.subnetRow(trx, netuid));
    await this.applyWeights(trx, reveal.block, params, reveal.hotkey, netuid, reveal.uids, reveal.values, reveal.versionKey);
  }

  private async processEpochsOnly(trx: Knex.Transaction, netuid: number, block: number): Promise<void> {
    const subnet = await this.subnetRow(trx, netuid);
    const params = subnetParams(subnet);
    const epoch = epochIndex(netuid, params.tempo, block);
    const lastEpoch = Number(subnet.last_epoch);
    if (epoch <= lastEpoch) return;
    const elapsed = epoch - lastEpoch;
    const meta = await this.meta();
    const rows = await this.neuronRows(trx, netuid);
    const weights = new Map<number, Map<number, number>>();
    for (const [uid, list] of await this.rawWeightsIn(trx, netuid)) weights.set(uid, new Map(list.map((e) => [e.uid, e.value])));
    // Weights are only ever changed after this processing has run for the block of the change, so
    // every skipped epoch saw the same weights and stakes: one computation covers them all.
    const result = computeConsensus({
      neurons: rows.map((r) => ({
        uid: Number(r.uid),
        stake: Number(r.alpha_stake) + Number(r.tao_stake) * meta.taoWeight,
        validatorPermit: Boolean(r.validator_permit),
      })),
      weights,
      emission: params.emissionPerBlock * (params.tempo + 1),
    });
    for (const r of rows) {
      const uid = Number(r.uid);
      const emission = result.emission.get(uid) ?? 0;
      await trx('chain_local_neurons')
        .where({ netuid, uid })
        .update({
          incentive: result.incentive.get(uid) ?? 0,
          dividends: result.dividends.get(uid) ?? 0,
          consensus: result.consensus.get(uid) ?? 0,
          emission,
          emission_total: Number(r.emission_total) + emission * elapsed,
        });
    }
    await trx('chain_local_subnets')
      .where({ netuid })
      .update({ last_epoch: epoch, last_epoch_block: firstBlockOfEpoch(netuid, params.tempo, epoch) });
  }

  /** Raw weights read through `db` (the ledger's connection, or a transaction), ordered by setter and target uid. */
  private async rawWeightsIn(db: Knex, netuid: number): Promise<Map<number, Array<{ uid: number; value: number }>>> {
    const rows = (await db('chain_local_weights').where({ netuid }).orderBy(['uid', 'dest_uid'])) as Array<{
      uid: number;
      dest_uid: number;
      value: number;
    }>;
    const out = new Map<number, Array<{ uid: number; value: number }>>();
    for (const r of rows) {
      const list = out.get(Number(r.uid)) ?? [];
      list.push({ uid: Number(r.dest_uid), value: Number(r.value) });
      out.set(Number(r.uid), list);
    }
    return out;
  }

  // ---------------------------------------------------------------- admin (sudo / owner)

  async registerNeuron(options: RegisterNeuronOptions): Promise<{ uid: number; block: number }> {
    checkNeuronOptions(options);
    return this.write(async (trx, block) => {
      await this.processEpochs(trx, options.netuid, block);
      return { uid: await this.insertNeuron(trx, block, options), block };
    });
  }

  /**
   * Many neurons in one write, each with the checks of `registerNeuron` and, when given, its axon
   * served as `serveAxon` would: a large local subnet (the scale benchmark's 10,000 miners) is
   * set up in seconds instead of two transactions per neuron. All or none are registered.
   */
  async registerNeurons(
    neurons: ReadonlyArray<RegisterNeuronOptions & { readonly axon?: AxonOptions }>,
  ): Promise<Array<{ uid: number; block: number }>> {
    for (const options of neurons) checkNeuronOptions(options);
    return this.write(async (trx, block) => {
      const netuids = [...new Set(neurons.map((options) => options.netuid))];
      for (const netuid of netuids) await this.processEpochs(trx, netuid, block);
      // registerNeuron's checks, for the whole list at once: set-wise reads, not three per neuron.
      const owners = new Map<string, NeuronRow[]>();
      for (let i = 0; i < neurons.length; i += BULK_CHUNK) {
        const chunk = neurons.slice(i, i + BULK_CHUNK).map((options) => options.hotkey);
        for (const row of (await trx('chain_local_neurons').whereIn('hotkey', chunk)) as NeuronRow[])
          owners.set(row.hotkey, [...(owners.get(row.hotkey) ?? []), row]);
      }
      const nextUid = new Map<number, number>();
      for (const netuid of netuids) {
        const max = (await trx('chain_local_neurons').where({ netuid }).max({ m: 'uid' }).first()) as { m: number | null } | undefined;
        nextUid.set(netuid, max?.m === null || max?.m === undefined ? 0 : Number(max.m) + 1);
      }
      const rows = neurons.map((options) => {
        const registered = owners.get(options.hotkey) ?? [];
        if (registered.some((row) => Number(row.netuid) === options.netuid))
          throw new ChainError(
            'HotKeyAlreadyRegisteredInSubNet',
            `hotkey ${options.hotkey} is already registered on subnet ${options.netuid}`,
          );
        const other = registered.find((row) => row.coldkey !== options.coldkey);
        if (other)
          throw new ChainError(
            'NonAssociatedColdKey',
            `hotkey ${options.hotkey} belongs to coldkey ${other.coldkey}, not ${options.coldkey}`,
          );
        const uid = nextUid.get(options.netuid)!;
        nextUid.set(options.netuid, uid + 1);
        // Later entries of the list see this one, as a second registerNeuron call would.
        owners.set(options.hotkey, [
          ...registered,
          { netuid: options.netuid, hotkey: options.hotkey, coldkey: options.coldkey } as NeuronRow,
        ]);
        return { ...neuronColumns(options, uid, block), ...(options.axon ? axonColumns(options.axon, block) : {}) };
      });
      // Rows with and without an axon apart: a multi-row insert sets a key missing from a row to
      // NULL, not to the column's default.
      for (const group of [rows.filter((row) => 'axon_port' in row), rows.filter((row) => !('axon_port' in row))])
        for (let i = 0; i < group.length; i += BULK_CHUNK) await trx('chain_local_neurons').insert(group.slice(i, i + BULK_CHUNK));
      return rows.map((row) => ({ uid: row.uid, block }));
    });
  }

  /** Inserts one neuron (registerNeuron's checks and row); returns its uid. */
  private async insertNeuron(trx: Knex.Transaction, block: number, options: RegisterNeuronOptions): Promise<number> {
    if (await this.neuronByHotkey(trx, options.netuid, options.hotkey)) {
      throw new ChainError('HotKeyAlreadyRegisteredInSubNet', `hotkey ${options.hotkey} is already registered on subnet ${options.netuid}`);
    }
    const owner = (await trx('chain_local_neurons').where({ hotkey: options.hotkey }).first()) as NeuronRow | undefined;
    if (owner && owner.coldkey !== options.coldkey) {
      throw new ChainError('NonAssociatedColdKey', `hotkey ${options.hotkey} belongs to coldkey ${owner.coldkey}, not ${options.coldkey}`);
    }
    const max = (await trx('chain_local_neurons').where({ netuid: options.netuid }).max({ m: 'uid' }).first()) as
      { m: number | null } | undefined;
    const uid = max?.m === null || max?.m === undefined ? 0 : Number(max.m) + 1;
    await trx('chain_local_neurons').insert(neuronColumns(options, uid, block));
    return uid;
  }

  async addStake(options: AddStakeOptions): Promise<{ alpha: number; tao: number }> {
    const alpha = options.alpha ?? 0;
    const tao = options.tao ?? 0;
    if (!Number.isFinite(alpha) || !Number.isFinite(tao)) throw new ChainConfigError('stake amounts must be numbers');
    return this.write(async (trx, block) => {
      await this.processEpochs(trx, options.netuid, block);
      const neuron = await this.neuronByHotkey(trx, options.netuid, options.hotkey);
      if (!neuron)
        throw new ChainError('HotKeyNotRegisteredInSubNet', `hotkey ${options.hotkey} is not registered on subnet ${options.netuid}`);
      const next = { alpha: Number(neuron.alpha_stake) + alpha, tao: Number(neuron.tao_stake) + tao };
      if (next.alpha < 0 || next.tao < 0)
        throw new ChainError('NotEnoughStakeToWithdraw', `hotkey ${options.hotkey} has less stake than that to remove`);
      await trx('chain_local_neurons')
        .where({ netuid: options.netuid, uid: neuron.uid })
        .update({ alpha_stake: next.alpha, tao_stake: next.tao });
      return next;
    });
  }

  async setValidatorPermit(netuid: number, hotkey: string, permit: boolean): Promise<void> {
    await this.write(async (trx, block) => {
      await this.processEpochs(trx, netuid, block);
      const neuron = await this.neuronByHotkey(trx, netuid, hotkey);
      if (!neuron) throw new ChainError('HotKeyNotRegisteredInSubNet', `hotkey ${hotkey} is not registered on subnet ${netuid}`);
      await trx('chain_local_neurons').where({ netuid, uid: neuron.uid }).update({ validator_permit: permit });
    });
  }

  /** Changes hyperparameters (what the subnet owner / sudo does on subtensor). */
  async setHyperparameters(netuid: number, params: Partial<LocalSubnetParams>): Promise<void> {
    checkParams(params);
    await this.write(async (trx, block) => {
      await this.processEpochs(trx, netuid, block);
      const subnet = subnetParams(await this.subnetRow(trx, netuid));
      const columns = subnetColumns(params);
      if (params.tempo !== undefined && params.tempo !== subnet.tempo) {
        // Re-base the epoch counter on the new tempo so no epoch is counted twice or skipped.
        const epoch = epochIndex(netuid, params.tempo, block);
        columns['last_epoch'] = epoch;
        columns['last_epoch_block'] = firstBlockOfEpoch(netuid, params.tempo, epoch);
      }
      if (Object.keys(columns).length > 0) await trx('chain_local_subnets').where({ netuid }).update(columns);
    });
  }

  /** Weights extrinsics the chain accepted, oldest first (table `chain_local_extrinsics`). */
  async extrinsics(netuid: number, hotkey?: string): Promise<Array<{ block: number; hotkey: string; call: LocalExtrinsicCall }>> {
    const rows = (await this.db('chain_local_extrinsics')
      .where({ netuid, ...definedFields({ hotkey }) })
      .orderBy('id')) as Array<{ block: number | string; hotkey: string; call: LocalExtrinsicCall }>;
    return rows.map((row) => ({ block: Number(row.block), hotkey: row.hotkey, call: row.call }));
  }

  /** Records an accepted extrinsic in the same transaction as its effect, so the log never disagrees with the state. */
  private async logExtrinsic(
    trx: Knex.Transaction,
    netuid: number,
    block: number,
    hotkey: string,
    call: LocalExtrinsicCall,
  ): Promise<void> {
    await trx('chain_local_extrinsics').insert({ netuid, block, hotkey, call });
  }

  // ---------------------------------------------------------------- extrinsics (signed by `hotkey`)

  /** `set_weights`: refused with `CommitRevealEnabled` when commit-reveal is on. Returns the block. */
  async setWeights(
    hotkey: string,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    versionKey: number,
  ): Promise<number> {
    return this.write(async (trx, block) => {
      await this.processEpochs(trx, netuid, block);
      const params = subnetParams(await this.subnetRow(trx, netuid));
      if (params.commitRevealEnabled) {
        throw new ChainError(
          'CommitRevealEnabled',
          `commit-reveal is on for subnet ${netuid}: commit the weights and reveal them instead of set_weights`,
        );
      }
      await this.applyWeights(trx, block, params, hotkey, netuid, uids, values, versionKey);
      await this.logExtrinsic(trx, netuid, block, hotkey, 'set_weights');
      return block;
    });
  }

  /** `commit_weights` (CR-v2). Returns the block. */
  async commitWeights(hotkey: string, netuid: number, commitHash: string): Promise<number> {
    return this.write(async (trx, block) => {
      await this.processEpochs(trx, netuid, block);
      const params = subnetParams(await this.subnetRow(trx, netuid));
      if (!params.commitRevealEnabled) {
        throw new ChainError('CommitRevealDisabled', `commit-reveal is off for subnet ${netuid}; use set_weights`);
      }
      const neuron = await this.neuronByHotkey(trx, netuid, hotkey);
      if (!neuron) throw new ChainError('HotKeyNotRegisteredInSubNet', `hotkey ${hotkey} is not registered on subnet ${netuid}`);
      this.checkRateLimit('CommittingWeightsTooFast', params, neuron, block);

      const window = revealWindow(netuid, params.tempo, params.revealPeriodEpochs, block);
      const queue = (await trx('chain_local_weight_commits').where({ netuid, hotkey }).orderBy('id')) as CommitRow[];
      // Drop expired commits from the front of the queue, as subtensor does before appending.
      let live = queue;
      while (live.length > 0 && this.isExpired(netuid, params, Number(live[0]!.commit_block), block)) {
        await trx('chain_local_weight_commits').where({ id: live[0]!.id }).delete();
        live = live.slice(1);
      }
      if (live.length >= MAX_UNREVEALED_COMMITS) {
        throw new ChainError(
          'TooManyUnrevealedCommits',
          `hotkey ${hotkey} already has ${live.length} unrevealed commits on subnet ${netuid}`,
        );
      }
      await trx('chain_local_weight_commits').insert({
        netuid,
        hotkey,
        commit_hash: commitHash.toLowerCase(),
        commit_block: block,
        first_reveal_block: window.firstBlock,
        last_reveal_block: window.lastBlock,
      });
      await trx('chain_local_neurons').where({ netuid, uid: neuron.uid }).update({ last_update: block });
      await this.logExtrinsic(trx, netuid, block, hotkey, 'commit_weights');
      return block;
    });
  }

  /**
   * `commit_timelocked_weights` (v4): the ciphertext waits for its round; the chain reveals it.
   * Checks in subtensor's order (internal_commit_timelocked_weights). Returns the block.
   */
  async commitTimelockedWeights(
    hotkey: string,
    netuid: number,
    commit: Uint8Array,
    revealRound: number,
    commitRevealVersion: number,
  ): Promise<number> {
    return this.write(async (trx, block) => {
      await this.processEpochs(trx, netuid, block);
      const params = subnetParams(await this.subnetRow(trx, netuid));
      if (!params.commitRevealEnabled)
        throw new ChainError('CommitRevealDisabled', `commit-reveal is off for subnet ${netuid}; use set_weights`);
      if (commitRevealVersion !== params.commitRevealVersion) {
        throw new ChainError(
          'IncorrectCommitRevealVersion',
          `commit_reveal_version ${commitRevealVersion} is not the chain's ${params.commitRevealVersion}`,
        );
      }
      const neuron = await this.neuronByHotkey(trx, netuid, hotkey);
      if (!neuron) throw new ChainError('HotKeyNotRegisteredInSubNet', `hotkey ${hotkey} is not registered on subnet ${netuid}`);
      this.checkRateLimit('CommittingWeightsTooFast', params, neuron, block);
      await this.timelock.queue(
        trx,
        { netuid, hotkey, block, epoch: epochIndex(netuid, params.tempo, block), commit, revealRound },
        MAX_UNREVEALED_COMMITS,
      );
      await this.logExtrinsic(trx, netuid, block, hotkey, 'commit_timelocked_weights');
      await trx('chain_local_neurons').where({ netuid, uid: neuron.uid }).update({ last_update: block });
      return block;
    });
  }

  /** The local beacon: its public info, for encrypting; pulses stay inside the ledger. */
  beaconInfo(): Promise<BeaconInfo> {
    return this.timelock.beaconInfo();
  }

  /** Timelocked commits of a subnet with how they went (newest last). */
  async timelockedCommits(netuid: number): Promise<TimelockedCommitRecord[]> {
    await this.syncEpochs(netuid);
    return this.timelock.commits(this.db, netuid);
  }

  /** `reveal_weights` (CR-v2): must match a live commit and fall in its reveal epoch. Returns the block. */
  async revealWeights(
    hotkey: string,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    salt: readonly number[],
    versionKey: number,
  ): Promise<number> {
    return this.write(async (trx, block) => {
      await this.processEpochs(trx, netuid, block);
      const params = subnetParams(await this.subnetRow(trx, netuid));
      if (!params.commitRevealEnabled) {
        throw new ChainError('CommitRevealDisabled', `commit-reveal is off for subnet ${netuid}; nothing to reveal`);
      }
      const queue = (await trx('chain_local_weight_commits').where({ netuid, hotkey }).orderBy('id')) as CommitRow[];
      if (queue.length === 0) throw new ChainError('NoWeightsCommitFound', `hotkey ${hotkey} has no weight commit on subnet ${netuid}`);

      const expired: string[] = [];
      let live = queue;
      while (live.length > 0 && this.isExpired(netuid, params, Number(live[0]!.commit_block), block)) {
        expired.push(live[0]!.commit_hash);
        await trx('chain_local_weight_commits').where({ id: live[0]!.id }).delete();
        live = live.slice(1);
      }
      const provided = weightCommitHash({ hotkey, netuidIndex: netuid, uids, values, salt, versionKey });
      if (live.length === 0) {
        if (expired.includes(provided))
          throw new ChainError('ExpiredWeightCommit', `the commit for these weights expired (its reveal epoch has passed)`);
        throw new ChainError('NoWeightsCommitFound', `hotkey ${hotkey} has no live weight commit on subnet ${netuid}`);
      }
      const position = live.findIndex((c) => c.commit_hash === provided);
      if (position === -1) {
        if (expired.includes(provided))
          throw new ChainError('ExpiredWeightCommit', `the commit for these weights expired (its reveal epoch has passed)`);
        throw new ChainError(
          'InvalidRevealCommitHashNotMatch',
          `the revealed weights, salt and version key hash to ${provided}, which matches none of hotkey ${hotkey}'s commits`,
        );
      }
      const commit = live[position]!;
      const commitBlock = Number(commit.commit_block);
      const commitEpoch = epochIndex(netuid, params.tempo, commitBlock);
      if (epochIndex(netuid, params.tempo, block) !== commitEpoch + params.revealPeriodEpochs) {
        throw new ChainError(
          'RevealTooEarly',
          `the commit of block ${commitBlock} can be revealed from block ${Number(commit.first_reveal_block)}; it is block ${block}`,
        );
      }
      // Revealing a commit removes it and every older one.
      const ids = live.slice(0, position + 1).map((c) => c.id);
      await trx('chain_local_weight_commits').whereIn('id', ids).delete();
      await this.applyWeights(trx, block, params, hotkey, netuid, uids, values, versionKey);
      await this.logExtrinsic(trx, netuid, block, hotkey, 'reveal_weights');
      return block;
    });
  }

  /** `serve_axon`. LocalChain accepts loopback addresses (subtensor refuses 127.0.0.1) because the devnet runs on one machine. */
  async serveAxon(hotkey: string, netuid: number, axon: AxonOptions): Promise<number> {
    return this.write(async (trx, block) => {
      await this.setAxon(trx, block, hotkey, netuid, axon);
      return block;
    });
  }

  /** `serve_axon`'s checks and update, inside a write. */
  private async setAxon(trx: Knex.Transaction, block: number, hotkey: string, netuid: number, axon: AxonOptions): Promise<void> {
    const params = subnetParams(await this.subnetRow(trx, netuid));
    const neuron = await this.neuronByHotkey(trx, netuid, hotkey);
    if (!neuron) throw new ChainError('HotKeyNotRegisteredInNetwork', `hotkey ${hotkey} is not registered on subnet ${netuid}`);
    const columns = axonColumns(axon, block);
    const lastServe = Number(neuron.axon_block);
    if (params.servingRateLimit > 0 && lastServe > 0 && block - lastServe < params.servingRateLimit) {
      const remaining = params.servingRateLimit - (block - lastServe);
      throw new ChainError(
        'ServingRateLimitExceeded',
        `hotkey ${hotkey} served its axon at block ${lastServe}; wait ${remaining} more blocks`,
        {
          blocksRemaining: remaining,
          nextBlock: lastServe + params.servingRateLimit,
        },
      );
    }
    await trx('chain_local_neurons').where({ netuid, uid: neuron.uid }).update(columns);
  }

  /** `Commitments.set_commitment` with one Raw field (≤ 128 bytes). */
  async setCommitment(hotkey: string, netuid: number, data: string): Promise<number> {
    const size = new TextEncoder().encode(data).length;
    return this.write(async (trx, block) => {
      await this.subnetRow(trx, netuid);
      if (!(await this.neuronByHotkey(trx, netuid, hotkey))) {
        throw new ChainError('AccountNotAllowedCommit', `hotkey ${hotkey} is not registered on subnet ${netuid} and may not commit there`);
      }
      if (size > MAX_COMMITMENT_BYTES) {
        throw new ChainError('SpaceLimitExceeded', `a commitment field holds at most ${MAX_COMMITMENT_BYTES} bytes; this one is ${size}`);
      }
      const existing = await trx('chain_local_commitments').where({ netuid, hotkey }).first();
      if (existing) await trx('chain_local_commitments').where({ netuid, hotkey }).update({ data, block });
      else await trx('chain_local_commitments').insert({ netuid, hotkey, data, block });
      return block;
    });
  }

  /**
   * `associate_evm_key`, signed by the hotkey: `signature` must be `evmKey`'s EIP-191 signature of
   * the hotkey's public key ++ keccak256(block number as little-endian u64), as on subtensor
   * (`InvalidIdentity` otherwise). The block may not lie in the future. subtensor's
   * `EvmKeyAssociateRateLimit` is not modelled.
   */
  async associateEvmKey(hotkey: string, netuid: number, evmKey: string, blockNumber: number, signature: `0x${string}`): Promise<number> {
    return this.write(async (trx, block) => {
      await this.subnetRow(trx, netuid);
      const neuron = await this.neuronByHotkey(trx, netuid, hotkey);
      if (!neuron) throw new ChainError('HotKeyNotRegisteredInNetwork', `hotkey ${hotkey} is not registered on subnet ${netuid}`);
      if (!Number.isSafeInteger(blockNumber) || blockNumber < 0 || blockNumber > block) {
        throw new ChainError('InvalidIdentity', `block ${blockNumber} of the association signature is not a past block (now ${block})`);
      }
      if (!(await verifyAssociation(evmKey, signature, decodeAddress(hotkey), blockNumber))) {
        throw new ChainError('InvalidIdentity', `the signature is not ${evmKey}'s signature of hotkey ${hotkey} at block ${blockNumber}`);
      }
      const row = { netuid, uid: Number(neuron.uid), hotkey, evm_address: getAddress(evmKey), block };
      await trx('chain_local_evm_associations').insert(row).onConflict(['netuid', 'uid']).merge();
      return block;
    });
  }

  /** `AssociatedEvmAddress` of the subnet: uid → H160, for uids still held by the hotkey that associated. */
  async associatedEvmAddresses(netuid: number): Promise<ReadonlyMap<number, string>> {
    const rows = (await this.db('chain_local_evm_associations as a')
      .join('chain_local_neurons as n', function joinNeuron() {
        this.on('n.netuid', '=', 'a.netuid').andOn('n.uid', '=', 'a.uid').andOn('n.hotkey', '=', 'a.hotkey');
      })
      .where('a.netuid', netuid)
      .select('a.uid', 'a.evm_address')) as Array<{ uid: number | string; evm_address: string }>;
    return new Map(rows.map((r) => [Number(r.uid), r.evm_address]));
  }

  // ---------------------------------------------------------------- rules shared by set and reveal

  private isExpired(netuid: number, params: LocalSubnetParams, commitBlock: number, block: number): boolean {
    return epochIndex(netuid, params.tempo, block) > epochIndex(netuid, params.tempo, commitBlock) + params.revealPeriodEpochs;
  }

  private checkRateLimit(
    code: 'SettingWeightsTooFast' | 'CommittingWeightsTooFast',
    params: LocalSubnetParams,
    neuron: NeuronRow,
    block: number,
  ): void {
    const last = Number(neuron.last_update);
    if (last === 0 || block - last >= params.weightsRateLimit) return;
    const nextBlock = last + params.weightsRateLimit;
    const remaining = nextBlock - block;
    throw new ChainError(
      code,
      `${code}: hotkey ${neuron.hotkey} last updated weights at block ${last}; WeightsSetRateLimit is ${params.weightsRateLimit} blocks, ${remaining} blocks remaining (next at block ${nextBlock})`,
      { blocksRemaining: remaining, nextBlock },
    );
  }

  /** subtensor's `internal_set_weights`, checks in its order. */
  private async applyWeights(
    trx: Knex.Transaction,
    block: number,
    params: LocalSubnetParams,
    hotkey: string,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    versionKey: number,
  ): Promise<void> {
    if (uids.length !== values.length) throw new ChainError('WeightVecNotEqualSize', `${uids.length} uids but ${values.length} values`);
    const rows = await this.neuronRows(trx, netuid);
    if (uids.length > rows.length)
      throw new ChainError('UidsLengthExceedUidsInSubNet', `${uids.length} uids for a subnet of ${rows.length}`);
    const neuron = rows.find((r) => r.hotkey === hotkey);
    if (!neuron) throw new ChainError('HotKeyNotRegisteredInSubNet', `hotkey ${hotkey} is not registered on subnet ${netuid}`);
    const meta = await this.meta();
    const stake = Number(neuron.alpha_stake) + Number(neuron.tao_stake) * meta.taoWeight;
    if (stake < params.stakeThreshold) {
      throw new ChainError(
        'NotEnoughStakeToSetWeights',
        `hotkey ${hotkey} has ${stake} stake; setting weights needs ${params.stakeThreshold}`,
      );
    }
    if (params.weightsVersionKey !== 0 && versionKey < params.weightsVersionKey) {
      throw new ChainError('IncorrectWeightVersionKey', `version key ${versionKey} is below the subnet's ${params.weightsVersionKey}`);
    }
    const uid = Number(neuron.uid);
    if (!params.commitRevealEnabled) this.checkRateLimit('SettingWeightsTooFast', params, neuron, block);
    if (!isSelfWeight(uid, uids, values) && !Boolean(neuron.validator_permit)) {
      throw new ChainError('NeuronNoValidatorPermit', `hotkey ${hotkey} (uid ${uid}) has no validator permit on subnet ${netuid}`);
    }
    if (new Set(uids).size !== uids.length) throw new ChainError('DuplicateUids', 'a uid appears twice');
    const valid = new Set(rows.map((r) => Number(r.uid)));
    if (uids.some((u) => !valid.has(u)))
      throw new ChainError('UidVecContainInvalidOne', `uids ${uids.filter((u) => !valid.has(u)).join(', ')} are not on subnet ${netuid}`);
    if (values.some((v) => !Number.isInteger(v) || v < 0 || v > U16_MAX)) throw new ChainError('InvalidValue', 'weight values are u16');
    const minAllowed = Math.min(rows.length, params.minAllowedWeights);
    if (!isSelfWeight(uid, uids, values) && values.length < minAllowed) {
      throw new ChainError('WeightVecLengthIsLow', `${values.length} weights; subnet ${netuid} needs at least ${minAllowed}`);
    }
    const upscaled = maxUpscale(values);
    if (!isSelfWeight(uid, uids, values) && params.maxWeightsLimit !== U16_MAX) {
      const total = upscaled.reduce((a, b) => a + b, 0);
      const max = Math.max(0, ...upscaled);
      if (total > 0 && max / total > params.maxWeightsLimit / U16_MAX) {
        throw new ChainError(
          'MaxWeightExceeded',
          `the largest weight is ${(max / total).toFixed(4)} of the total; the limit is ${(params.maxWeightsLimit / U16_MAX).toFixed(4)}`,
        );
      }
    }
    await trx('chain_local_weights').where({ netuid, uid }).delete();
    if (uids.length > 0) {
      await trx('chain_local_weights').insert(uids.map((dest, i) => ({ netuid, uid, dest_uid: dest, value: upscaled[i]! })));
    }
    if (!params.commitRevealEnabled) await trx('chain_local_neurons').where({ netuid, uid }).update({ last_update: block });
  }
}
