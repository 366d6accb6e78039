/**
 * The weights part of subtensor's pallet for the FakeSubtensor node, following the runtime its
 * metadata fixture comes from (pallets/subtensor/src/subnets/weights.rs and
 * coinbase/reveal_commits.rs; legacy `(block + netuid + 1) / (tempo + 1)` epochs), so tests fail
 * the way the chain would:
 *
 * - `set_weights`: `CommitRevealEnabled` while commit-reveal is on, `IncorrectWeightVersionKey`,
 *   `SettingWeightsTooFast` inside `WeightsSetRateLimit`; otherwise `Weights` and `LastUpdate` change.
 * - `commit_weights` (v2): `CommitRevealDisabled`, `CommittingWeightsTooFast`; queues the hash in
 *   `WeightCommits` with its reveal window.
 * - `commit_timelocked_weights` (v4): `CommitRevealDisabled`, `IncorrectCommitRevealVersion`
 *   (must equal `CommitRevealWeightsVersion`), `HotKeyNotRegisteredInSubNet`,
 *   `CommittingWeightsTooFast`, `TooManyUnrevealedCommits`; queued under the commit epoch.
 * - every block's `on_initialize`: timestamps the block (12 s apart), takes the drand pulses whose
 *   time has come from `pulses`, and reveals the timelocked commits of epoch `current − reveal
 *   period` whose round's pulse is on chain (decrypt, check the payload's hotkey, then the
 *   set_weights rules); older ones are dropped unrevealed.
 */
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { hexToU8a, u8aEq } from '@polkadot/util';

import { epochIndex, firstBlockOfEpoch } from '../../epochs.js';
import { timeOfRound, type BeaconInfo } from '../../timelock/beacon.js';
import { TimelockError } from '../../timelock/errors.js';
import { decodeWeightsTlockPayload } from '../../timelock/payload.js';
import { timelockDecrypt } from '../../timelock/tle.js';
import type { ExtrinsicOutcome, FakeSubtensor, RecordedExtrinsic } from './fake-subtensor.js';

export interface FakeWeightsPalletOptions {
  readonly netuid: number;
  /** The beacon the chain trusts and the pulses it will ingest (round → signature hex). */
  readonly beacon: BeaconInfo;
  readonly pulses: ReadonlyMap<number, string>;
  /** Timestamp of the node's current best block, in Unix seconds. */
  readonly startTimeSeconds: number;
  readonly blockSeconds?: number;
}

interface TimelockedCommit {
  readonly who: string;
  readonly block: number;
  readonly epoch: number;
  readonly commit: Uint8Array;
  readonly round: number;
}

export interface RevealedCommit {
  readonly who: string;
  readonly commitBlock: number;
  readonly round: number;
  readonly block: number;
  readonly uids: number[];
  readonly values: number[];
}

export class FakeWeightsPallet {
  readonly revealed: RevealedCommit[] = [];
  /** Commits the reveal step gave up on, with why (as the runtime's trace log would say). */
  readonly dropped: Array<{ who: string; commitBlock: number; reason: string }> = [];
  private readonly timelocked: TimelockedCommit[] = [];
  private initialized: number;
  private readonly startBlock: number;
  private readonly blockSeconds: number;

  constructor(
    private readonly node: FakeSubtensor,
    private readonly options: FakeWeightsPalletOptions,
  ) {
    this.startBlock = node.bestNumber;
    this.initialized = node.bestNumber;
    this.blockSeconds = options.blockSeconds ?? 12;
    node.setStorage('timestamp', 'now', [], BigInt(Math.round(options.startTimeSeconds * 1000)));
    node.onInitialize = (block) => this.onInitialize(block);
    node.onExtrinsic = (x) => this.onExtrinsic(x);
  }

  private get netuid(): number {
    return this.options.netuid;
  }

  private num(method: string, args: unknown[] = [this.netuid]): number {
    return Number(this.node.getStorage('subtensorModule', method, args)?.toPrimitive() ?? 0);
  }

  private flag(method: string): boolean {
    return this.node.getStorage('subtensorModule', method, [this.netuid])?.toPrimitive() === true;
  }

  timestampOf(block: number): number {
    return this.options.startTimeSeconds + (block - this.startBlock) * this.blockSeconds;
  }

  /** The pulse of `round` is on chain once a block at or after its emission time has been made. */
  private pulseOnChain(round: number, block: number): string | undefined {
    if (this.timestampOf(block - 1) < timeOfRound(this.options.beacon, round)) return undefined;
    return this.options.pulses.get(round);
  }

  private uidOf(who: string): number | null {
    const uid = this.node.getStorage('subtensorModule', 'uids', [this.netuid, who])?.toPrimitive();
    return typeof uid === 'number' ? uid : null;
  }

  private lastUpdate(): number[] {
    return ((this.node.getStorage('subtensorModule', 'lastUpdate', [this.netuid])?.toPrimitive() as number[] | undefined) ?? []).map(
      Number,
    );
  }

  private passesRateLimit(uid: number, block: number): boolean {
    const last = this.lastUpdate()[uid] ?? 0;
    return last === 0 || block - last >= this.num('weightsSetRateLimit');
  }

  private touch(uid: number, block: number): void {
    const last = this.lastUpdate();
    while (last.length <= uid) last.push(0);
    last[uid] = block;
    this.node.setStorage('subtensorModule', 'lastUpdate', [this.netuid], last);
  }

  /** `internal_set_weights`' checks that matter here; returns the error name or writes the weights. */
  private setWeights(
    who: string,
    uids: number[],
    values: number[],
    versionKey: number,
    block: number,
    rateLimited: boolean,
  ): string | undefined {
    const uid = this.uidOf(who);
    if (uid === null) return 'HotKeyNotRegisteredInSubNet';
    const required = this.num('weightsVersionKey');
    if (required !== 0 && versionKey < required) return 'IncorrectWeightVersionKey';
    if (rateLimited && !this.passesRateLimit(uid, block)) return 'SettingWeightsTooFast';
    this.node.setStorage(
      'subtensorModule',
      'weights',
      [this.netuid, uid],
      uids.map((u, i) => [u, values[i]]),
    );
    this.touch(uid, block);
    return undefined;
  }

  onExtrinsic(x: RecordedExtrinsic): ExtrinsicOutcome {
    const block = this.node.bestNumber + 1;
    const crOn = this.flag('commitRevealWeightsEnabled');
    const error = (name: string | undefined): ExtrinsicOutcome => (name === undefined ? undefined : { dispatchError: name });
    switch (x.method) {
      case 'setWeights': {
        if (crOn) return error('CommitRevealEnabled');
        const a = x.args as { dests: number[]; weights: number[]; versionKey: number };
        return error(this.setWeights(x.signer, a.dests, a.weights, Number(a.versionKey), block, true));
      }
      case 'commitWeights': {
        if (!crOn) return error('CommitRevealDisabled');
        const uid = this.uidOf(x.signer);
        if (uid === null) return error('HotKeyNotRegisteredInSubNet');
        if (!this.passesRateLimit(uid, block)) return error('CommittingWeightsTooFast');
        const tempo = this.num('tempo');
        const epoch = epochIndex(this.netuid, tempo, block) + this.num('revealPeriodEpochs');
        const first = firstBlockOfEpoch(this.netuid, tempo, epoch);
        this.node.setStorage(
          'subtensorModule',
          'weightCommits',
          [this.netuid, x.signer],
          [[x.args['commitHash'], block, first, first + tempo]],
        );
        this.touch(uid, block);
        return undefined;
      }
      case 'commitTimelockedWeights': {
        if (!crOn) return error('CommitRevealDisabled');
        const a = x.args as { commit: string; revealRound: number | string; commitRevealVersion: number };
        if (Number(a.commitRevealVersion) !== this.num('commitRevealWeightsVersion', [])) return error('IncorrectCommitRevealVersion');
        const uid = this.uidOf(x.signer);
        if (uid === null) return error('HotKeyNotRegisteredInSubNet');
        if (!this.passesRateLimit(uid, block)) return error('CommittingWeightsTooFast');
        const epoch = epochIndex(this.netuid, this.num('tempo'), block);
        if (this.timelocked.filter((c) => c.who === x.signer && c.epoch === epoch).length >= 10) return error('TooManyUnrevealedCommits');
        this.timelocked.push({ who: x.signer, block, epoch, commit: hexToU8a(a.commit), round: Number(a.revealRound) });
        this.touch(uid, block);
        return undefined;
      }
      default:
        return undefined;
    }
  }

  onInitialize(block: number): void {
    if (block <= this.initialized) return;
    this.initialized = block;
    this.node.setStorage('timestamp', 'now', [], BigInt(Math.round(this.timestampOf(block) * 1000)));
    if (!this.flag('commitRevealWeightsEnabled')) return;
    const revealEpoch = epochIndex(this.netuid, this.num('tempo'), block) - this.num('revealPeriodEpochs');
    for (const commit of [...this.timelocked]) {
      if (commit.epoch < revealEpoch) {
        this.remove(commit);
        this.dropped.push({ who: commit.who, commitBlock: commit.block, reason: 'expired: its round never came in its reveal epoch' });
        continue;
      }
      if (commit.epoch !== revealEpoch) continue;
      const signature = this.pulseOnChain(commit.round, block);
      if (signature === undefined) continue; // retried every block of the reveal epoch
      this.remove(commit);
      this.reveal(commit, signature, block);
    }
  }

  private remove(commit: TimelockedCommit): void {
    this.timelocked.splice(this.timelocked.indexOf(commit), 1);
  }

  private reveal(commit: TimelockedCommit, signature: string, block: number): void {
    let payload;
    try {
      payload = decodeWeightsTlockPayload(timelockDecrypt(commit.commit, signature));
    } catch (error) {
      if (!(error instanceof TimelockError)) throw error;
      this.dropped.push({ who: commit.who, commitBlock: commit.block, reason: `${error.reason}: ${error.message}` });
      return;
    }
    if (!u8aEq(payload.hotkey, decodeAddress(commit.who))) {
      this.dropped.push({
        who: commit.who,
        commitBlock: commit.block,
        reason: `hotkey mismatch in payload (${encodeAddress(payload.hotkey)})`,
      });
      return;
    }
    const uids = [...payload.uids];
    const values = [...payload.values];
    // The reveal goes through do_set_mechanism_weights, rate limit included; the commit itself set LastUpdate.
    const refused = this.setWeights(commit.who, uids, values, Number(payload.versionKey), block, false);
    if (refused) {
      this.dropped.push({ who: commit.who, commitBlock: commit.block, reason: refused });
      return;
    }
    this.revealed.push({ who: commit.who, commitBlock: commit.block, round: commit.round, block, uids, values });
  }
}
