/**
 * The LocalChain's timelocked commit-reveal (v4), as subtensor's `reveal_crv3_commits` does it
 * with pallet_drand's pulses, but with a beacon of its own: a BLS key kept in the chain's meta row,
 * the same scheme and round arithmetic as drand quicknet (round 1 at genesis, one every 3 s). A
 * pulse is signed only once the clock has reached its round, and a commit is opened at the first
 * block of its reveal epoch at which its round's pulse would be on chain (ingested by the block
 * before), so reveals happen where horde predicts them; a commit whose round does not come in its
 * reveal epoch is dropped, as on chain.
 */
import { randomBytes } from 'node:crypto';

import type { Knex } from 'knex';
import { decodeAddress } from '@polkadot/util-crypto';
import { hexToU8a, u8aEq, u8aToHex } from '@polkadot/util';

import type { Clock } from '../../contracts/index.js';
import { firstBlockOfEpoch } from '../epochs.js';
import { ChainError } from '../errors.js';
import { LocalBeacon, timeOfRound, type BeaconInfo } from '../timelock/beacon.js';
import { TimelockError } from '../timelock/errors.js';
import { decodeWeightsTlockPayload } from '../timelock/payload.js';
import { timelockDecrypt } from '../timelock/tle.js';

/** Weights a timelocked commit turned out to hold, applied at `block` as set_weights would. */
export interface TimelockedReveal {
  readonly block: number;
  readonly hotkey: string;
  readonly uids: number[];
  readonly values: number[];
  readonly versionKey: number;
}

export interface TimelockedCommitRecord {
  readonly hotkey: string;
  readonly commitBlock: number;
  readonly revealRound: number;
  readonly status: 'pending' | 'revealed' | 'dropped';
  readonly revealedBlock: number | null;
  readonly reason: string | null;
}

interface CommitRow {
  id: number;
  hotkey: string;
  commit_block: number | string;
  commit_epoch: number | string;
  reveal_round: number | string;
  commit: string;
  status: 'pending' | 'revealed' | 'dropped';
  revealed_block: number | string | null;
  reason: string | null;
}

interface Timing {
  readonly genesisMs: number;
  readonly blockTimeMs: number;
}

export class LocalTimelock {
  private beacon: LocalBeacon | null = null;

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly timing: () => Promise<Timing>,
  ) {}

  private async localBeacon(): Promise<LocalBeacon> {
    if (this.beacon) return this.beacon;
    const { genesisMs } = await this.timing();
    // Chains created before timelock support get their key on first use; the first writer wins.
    await this.db('chain_local_meta')
      .where({ id: 1 })
      .whereNull('beacon_secret')
      .update({ beacon_secret: randomBytes(32).toString('hex') });
    const row = (await this.db('chain_local_meta').where({ id: 1 }).first('beacon_secret')) as { beacon_secret: string } | undefined;
    if (!row?.beacon_secret) throw new ChainError('InvalidChainReply', 'the LocalChain has no beacon key');
    this.beacon = new LocalBeacon(hexToU8a(`0x${row.beacon_secret}`), Math.floor(genesisMs / 1000));
    return this.beacon;
  }

  async beaconInfo(): Promise<BeaconInfo> {
    return (await this.localBeacon()).info;
  }

  async queue(
    trx: Knex.Transaction,
    commit: { netuid: number; hotkey: string; block: number; epoch: number; commit: Uint8Array; revealRound: number },
    maxUnrevealed: number,
  ): Promise<void> {
    if (!Number.isSafeInteger(commit.revealRound) || commit.revealRound < 1) {
      throw new ChainError('InvalidRevealRound', `reveal round must be a positive integer, got ${commit.revealRound}`);
    }
    const waiting = (await trx('chain_local_timelocked_commits')
      .where({ netuid: commit.netuid, hotkey: commit.hotkey, commit_epoch: commit.epoch, status: 'pending' })
      .count({ n: '*' })
      .first()) as { n: number | string } | undefined;
    if (Number(waiting?.n ?? 0) >= maxUnrevealed) {
      throw new ChainError(
        'TooManyUnrevealedCommits',
        `hotkey ${commit.hotkey} already has ${maxUnrevealed} unrevealed commits in this epoch`,
      );
    }
    await trx('chain_local_timelocked_commits').insert({
      netuid: commit.netuid,
      hotkey: commit.hotkey,
      commit_block: commit.block,
      commit_epoch: commit.epoch,
      reveal_round: commit.revealRound,
      commit: u8aToHex(commit.commit, -1, false),
      status: 'pending',
    });
  }

  /**
   * Opens every pending commit of `netuid` whose reveal block is at or before `block`, earliest
   * first; `processUpTo` runs the epochs before each reveal so weights count from the right epoch.
   */
  async revealDue(
    trx: Knex.Transaction,
    netuid: number,
    block: number,
    processUpTo: (block: number) => Promise<void>,
    apply: (reveal: TimelockedReveal) => Promise<void>,
  ): Promise<void> {
    const rows = (await trx('chain_local_timelocked_commits').where({ netuid, status: 'pending' }).orderBy('id')) as CommitRow[];
    if (rows.length === 0) return;
    const subnet = (await trx('chain_local_subnets').where({ netuid }).first('tempo', 'reveal_period_epochs')) as
      { tempo: number; reveal_period_epochs: number | string } | undefined;
    if (!subnet) return;
    const tempo = Number(subnet.tempo);
    const period = Number(subnet.reveal_period_epochs);
    const timing = await this.timing();
    const beacon = await this.localBeacon();
    const due: Array<{ row: CommitRow; at: number }> = [];
    for (const row of rows) {
      const first = firstBlockOfEpoch(netuid, tempo, Number(row.commit_epoch) + period);
      const last = first + tempo;
      // The pulse is on chain once a block that starts at or after its emission has been made.
      const pulseMs = timeOfRound(beacon.info, Number(row.reveal_round)) * 1000;
      const ingestedBy = Math.max(0, Math.ceil((pulseMs - timing.genesisMs) / timing.blockTimeMs));
      const at = Math.max(first, ingestedBy + 1);
      if (at > last) {
        if (block > last)
          await this.finish(
            trx,
            row,
            'dropped',
            null,
            `expired: round ${row.reveal_round} was not on chain by block ${last}, the end of its reveal epoch`,
          );
        continue;
      }
      if (at <= block) due.push({ row, at });
    }
    due.sort((a, b) => a.at - b.at || a.row.id - b.row.id);
    for (const { row, at } of due) {
      await processUpTo(at - 1);
      await this.open(trx, row, at, beacon, apply);
    }
  }

  private async open(
    trx: Knex.Transaction,
    row: CommitRow,
    at: number,
    beacon: LocalBeacon,
    apply: (reveal: TimelockedReveal) => Promise<void>,
  ): Promise<void> {
    const round = Number(row.reveal_round);
    // Never sign a round before its time: that would be a beacon leaking the future.
    if (timeOfRound(beacon.info, round) * 1000 > this.clock.now()) return;
    let payload;
    try {
      payload = decodeWeightsTlockPayload(timelockDecrypt(hexToU8a(`0x${row.commit}`), beacon.pulse(round).signature));
    } catch (error) {
      if (!(error instanceof TimelockError)) throw error;
      await this.finish(trx, row, 'dropped', null, `${error.reason}: ${error.message}`);
      return;
    }
    if (!u8aEq(payload.hotkey, decodeAddress(row.hotkey))) {
      await this.finish(trx, row, 'dropped', null, 'hotkey mismatch in payload: the ciphertext was made by another hotkey');
      return;
    }
    try {
      await apply({
        block: at,
        hotkey: row.hotkey,
        uids: [...payload.uids],
        values: [...payload.values],
        versionKey: Number(payload.versionKey),
      });
    } catch (error) {
      if (!(error instanceof ChainError)) throw error;
      await this.finish(trx, row, 'dropped', null, `${error.code}: ${error.message}`);
      return;
    }
    await this.finish(trx, row, 'revealed', at, null);
  }

  private async finish(
    trx: Knex.Transaction,
    row: CommitRow,
    status: 'revealed' | 'dropped',
    revealedBlock: number | null,
    reason: string | null,
  ): Promise<void> {
    await trx('chain_local_timelocked_commits').where({ id: row.id }).update({ status, revealed_block: revealedBlock, reason });
  }

  async commits(db: Knex, netuid: number): Promise<TimelockedCommitRecord[]> {
    const rows = (await db('chain_local_timelocked_commits').where({ netuid }).orderBy('id')) as CommitRow[];
    return rows.map((r) => ({
      hotkey: r.hotkey,
      commitBlock: Number(r.commit_block),
      revealRound: Number(r.reveal_round),
      status: r.status,
      revealedBlock: r.revealed_block === null ? null : Number(r.revealed_block),
      reason: r.reason,
    }));
  }
}
