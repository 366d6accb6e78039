import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn } from '../store/json.js';

export type WeightCommitStatus = 'pending' | 'revealed' | 'expired' | 'failed';

/** A CR-v2 commit this process made, with what it needs to reveal it. Table `chain_weight_commits`. */
export interface StoredWeightCommit {
  readonly id: number;
  readonly network: string;
  readonly netuid: number;
  readonly hotkey: string;
  readonly commitHash: string;
  readonly uids: number[];
  readonly values: number[];
  readonly salt: number[];
  readonly versionKey: number;
  /** Null while the commit's inclusion has not been recorded. */
  readonly commitBlock: number | null;
  readonly firstRevealBlock: number | null;
  readonly lastRevealBlock: number | null;
  readonly status: WeightCommitStatus;
  readonly revealedBlock: number | null;
  readonly error: string | null;
  readonly createdAt: number;
  /** The caller's name for the submission (`submissionKey` of `Chain.submitWeights`), or null. */
  readonly submissionKey: string | null;
}

interface Row {
  id: number;
  network: string;
  netuid: number;
  hotkey: string;
  commit_hash: string;
  uids: string;
  weight_values: string;
  salt: string;
  version_key: number | string;
  commit_block: number | string | null;
  first_reveal_block: number | string | null;
  last_reveal_block: number | string | null;
  status: WeightCommitStatus;
  revealed_block: number | string | null;
  error: string | null;
  created_at: number | string;
  submission_key: string | null;
}

const TABLE = 'chain_weight_commits';

// pg returns BIGINT as a string; SQLite as a number.
const num = (v: number | string): number => Number(v);
const optNum = (v: number | string | null): number | null => (v === null ? null : Number(v));

function fromRow(r: Row): StoredWeightCommit {
  return {
    id: Number(r.id),
    network: r.network,
    netuid: Number(r.netuid),
    hotkey: r.hotkey,
    commitHash: r.commit_hash,
    uids: fromJsonColumn<number[]>(r.uids),
    values: fromJsonColumn<number[]>(r.weight_values),
    salt: fromJsonColumn<number[]>(r.salt),
    versionKey: num(r.version_key),
    commitBlock: optNum(r.commit_block),
    firstRevealBlock: optNum(r.first_reveal_block),
    lastRevealBlock: optNum(r.last_reveal_block),
    status: r.status,
    revealedBlock: optNum(r.revealed_block),
    error: r.error,
    createdAt: num(r.created_at),
    submissionKey: r.submission_key ?? null,
  };
}

export class WeightCommitStore {
  constructor(private readonly db: Knex) {}

  /** Records a commit before it is sent, so a crash right after sending still leaves the salt behind. */
  async insert(commit: {
    network: string;
    netuid: number;
    hotkey: string;
    commitHash: string;
    uids: readonly number[];
    values: readonly number[];
    salt: readonly number[];
    versionKey: number;
    createdAt: number;
    submissionKey?: string | undefined;
  }): Promise<number> {
    const [row] = await this.db(TABLE)
      .insert({
        network: commit.network,
        netuid: commit.netuid,
        hotkey: commit.hotkey,
        commit_hash: commit.commitHash,
        uids: toJsonColumn(commit.uids),
        weight_values: toJsonColumn(commit.values),
        salt: toJsonColumn(commit.salt),
        version_key: commit.versionKey,
        status: 'pending',
        created_at: commit.createdAt,
        submission_key: commit.submissionKey ?? null,
      })
      .returning('id');
    return Number(typeof row === 'object' ? (row as { id: number }).id : row);
  }

  async markIncluded(id: number, commitBlock: number, firstRevealBlock: number, lastRevealBlock: number): Promise<void> {
    await this.db(TABLE)
      .where({ id })
      .update({ commit_block: commitBlock, first_reveal_block: firstRevealBlock, last_reveal_block: lastRevealBlock });
  }

  async markRevealed(id: number, block: number): Promise<void> {
    await this.db(TABLE).where({ id }).update({ status: 'revealed', revealed_block: block, error: null });
  }

  // Expired and failed close a pending commit only: a late refusal (a second reveal of a commit the
  // chain already took says NoWeightsCommitFound) must not turn a revealed commit failed.
  async markExpired(id: number, error: string | null = null): Promise<void> {
    await this.db(TABLE).where({ id, status: 'pending' }).update({ status: 'expired', error });
  }

  async markFailed(id: number, error: string): Promise<void> {
    await this.db(TABLE).where({ id, status: 'pending' }).update({ status: 'failed', error });
  }

  /** Commits still waiting for their reveal, oldest first (subtensor reveals a hotkey's queue in order). */
  async pending(network: string, hotkey: string, netuid: number): Promise<StoredWeightCommit[]> {
    const rows = await this.db<Row>(TABLE).where({ network, hotkey, netuid, status: 'pending' }).orderBy('id', 'asc');
    return rows.map(fromRow);
  }

  /** The newest commit made for `submissionKey`, whatever its state; null when none was. */
  async bySubmissionKey(network: string, hotkey: string, netuid: number, submissionKey: string): Promise<StoredWeightCommit | null> {
    const row = await this.db<Row>(TABLE).where({ network, hotkey, netuid, submission_key: submissionKey }).orderBy('id', 'desc').first();
    return row ? fromRow(row) : null;
  }

  async all(network: string, hotkey: string, netuid: number): Promise<StoredWeightCommit[]> {
    const rows = await this.db<Row>(TABLE).where({ network, hotkey, netuid }).orderBy('id', 'asc');
    return rows.map(fromRow);
  }
}
