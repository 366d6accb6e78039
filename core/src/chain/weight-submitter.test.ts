import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../contracts/index.js';
import { openStore } from '../store/index.js';
import { ChainError } from './errors.js';
import { WeightCommitStore } from './weight-commit-store.js';
import { WeightSubmitter, type OnChainWeightCommit, type WeightsBackend } from './weight-submitter.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

/** A scripted chain: the test says what each call does. */
class ScriptedBackend implements WeightsBackend {
  readonly network = 'test-net';
  readonly hotkey = ALICE;
  block = 100;
  onChain: OnChainWeightCommit[] = [];
  commitBehaviour: () => number = () => this.block;
  revealBehaviour: () => number = () => this.block;
  reveals: Array<{ uids: number[]; values: number[]; salt: number[]; versionKey: number }> = [];

  async nextBlock() {
    return this.block;
  }
  async weightsState() {
    return {
      block: this.block,
      hyperparameters: {
        tempo: 10,
        weightsRateLimit: 5,
        minAllowedWeights: 1,
        maxWeightsLimit: 65535,
        commitRevealEnabled: true,
        revealPeriodEpochs: 1,
        weightsVersion: 3,
      },
      uid: 0,
      lastUpdate: 0,
      subnetSize: 4,
    };
  }
  async setWeights(): Promise<number> {
    throw new Error('not used');
  }
  async commitWeights(): Promise<number> {
    return this.commitBehaviour();
  }
  async revealWeights(_netuid: number, uids: number[], values: number[], salt: number[], versionKey: number): Promise<number> {
    const block = this.revealBehaviour();
    this.reveals.push({ uids, values, salt, versionKey });
    return block;
  }
  async onChainCommits() {
    return this.onChain;
  }
}

describe('WeightSubmitter: commits survive uncertain outcomes', () => {
  let store: Store;
  let backend: ScriptedBackend;
  let commits: WeightCommitStore;
  let submitter: WeightSubmitter;

  beforeEach(async () => {
    store = await openStore({ client: 'sqlite', filename: ':memory:' });
    backend = new ScriptedBackend();
    commits = new WeightCommitStore(store.db);
    submitter = new WeightSubmitter({ backend, commits });
  });
  afterEach(() => store.close());

  it('keeps a commit whose submission timed out and reveals it once found on chain', async () => {
    backend.commitBehaviour = () => {
      throw new ChainError('SubmitTimeout', 'not included in time');
    };
    await expect(submitter.submit(1, [{ uid: 2, weight: 1 }])).rejects.toMatchObject({ code: 'SubmitTimeout' });
    const [pending] = await commits.pending('test-net', ALICE, 1);
    expect(pending).toMatchObject({ status: 'pending', commitBlock: null, uids: [2], values: [65535], versionKey: 3 });

    // It did land, at block 100; its window (netuid 1, tempo 10) is epoch 10: blocks 108..118.
    backend.onChain = [{ hash: pending!.commitHash, commitBlock: 100, firstRevealBlock: 108, lastRevealBlock: 118 }];
    expect(await submitter.revealPending(1)).toEqual([{ commitBlock: 100, status: 'not_yet' }]);
    backend.block = 108;
    expect(await submitter.revealPending(1)).toEqual([{ commitBlock: 100, status: 'revealed', block: 108 }]);
    expect(backend.reveals).toEqual([{ uids: [2], values: [65535], salt: pending!.salt, versionKey: 3 }]);
  });

  it('marks a commit the chain refused as failed', async () => {
    backend.commitBehaviour = () => {
      throw new ChainError('CommittingWeightsTooFast', 'too fast');
    };
    await expect(submitter.submit(1, [{ uid: 2, weight: 1 }])).rejects.toMatchObject({ code: 'CommittingWeightsTooFast' });
    expect(await commits.pending('test-net', ALICE, 1)).toEqual([]);
    expect((await commits.all('test-net', ALICE, 1))[0]).toMatchObject({ status: 'failed', error: 'CommittingWeightsTooFast' });
  });

  it('retries a reveal after a lost connection, and waits when the chain says it is too early', async () => {
    expect(await submitter.submit(1, [{ uid: 2, weight: 1 }])).toEqual({
      status: 'committed',
      block: 100,
      revealBlock: 108,
      mode: 'commit_reveal_v2',
    });
    backend.block = 108;
    backend.revealBehaviour = () => {
      throw new Error('socket closed');
    };
    expect(await submitter.revealPending(1)).toEqual([{ commitBlock: 100, status: 'failed', error: 'socket closed' }]);
    backend.revealBehaviour = () => {
      throw new ChainError('RevealTooEarly', 'epoch not reached');
    };
    expect(await submitter.revealPending(1)).toEqual([{ commitBlock: 100, status: 'not_yet', error: 'RevealTooEarly' }]);
    backend.revealBehaviour = () => backend.block;
    expect(await submitter.revealPending(1)).toEqual([{ commitBlock: 100, status: 'revealed', block: 108 }]);
  });

  it('answers a submission key already committed from the chain instead of committing again (a restart that lost its record)', async () => {
    let sent = 0;
    backend.commitBehaviour = () => {
      sent += 1;
      return backend.block;
    };
    const first = await submitter.submit(1, [{ uid: 2, weight: 1 }], undefined, { submissionKey: 'validator-cycle:7' });
    expect(first).toEqual({ status: 'committed', block: 100, revealBlock: 108, mode: 'commit_reveal_v2' });
    // A new process (same store), other weights for the same cycle: nothing is sent, the commit is the answer.
    const restarted = new WeightSubmitter({ backend, commits });
    backend.block = 103;
    expect(await restarted.submit(1, [{ uid: 3, weight: 1 }], undefined, { submissionKey: 'validator-cycle:7' })).toEqual(first);
    expect(sent).toBe(1);
    // Another cycle is another submission.
    await restarted.submit(1, [{ uid: 3, weight: 1 }], undefined, { submissionKey: 'validator-cycle:8' });
    expect(sent).toBe(2);
    backend.block = 108;
    // Each cycle's commit revealed once.
    expect((await restarted.revealPending(1)).map((r) => [r.commitBlock, r.status])).toEqual([
      [100, 'revealed'],
      [103, 'revealed'],
    ]);
    // Revealed: the key still answers, and still sends nothing.
    expect(await restarted.submit(1, [{ uid: 2, weight: 1 }], undefined, { submissionKey: 'validator-cycle:7' })).toEqual(first);
    expect(sent).toBe(2);
  });

  it('finds a keyed commit whose inclusion was never recorded on chain, or commits again when it never landed', async () => {
    // Sent, then the process died before recording the block: the row has no commit block.
    backend.commitBehaviour = () => {
      throw new Error('connection lost');
    };
    await expect(submitter.submit(1, [{ uid: 2, weight: 1 }], undefined, { submissionKey: 'validator-cycle:7' })).rejects.toThrow();
    const [sentRow] = await commits.all('test-net', ALICE, 1);
    expect(sentRow).toMatchObject({ status: 'pending', commitBlock: null, submissionKey: 'validator-cycle:7' });
    backend.commitBehaviour = () => backend.block;
    backend.onChain = [{ hash: sentRow!.commitHash, commitBlock: 99, firstRevealBlock: 108, lastRevealBlock: 118 }];
    expect(await submitter.submit(1, [{ uid: 2, weight: 1 }], undefined, { submissionKey: 'validator-cycle:7' })).toEqual({
      status: 'committed',
      block: 99,
      revealBlock: 108,
      mode: 'commit_reveal_v2',
    });
    expect(await commits.all('test-net', ALICE, 1)).toHaveLength(1);

    // Cycle 8's commit never reached the chain: closed failed, committed anew (one pending row).
    backend.commitBehaviour = () => {
      throw new Error('connection lost');
    };
    await expect(submitter.submit(1, [{ uid: 2, weight: 1 }], undefined, { submissionKey: 'validator-cycle:8' })).rejects.toThrow();
    backend.commitBehaviour = () => backend.block;
    expect(await submitter.submit(1, [{ uid: 2, weight: 1 }], undefined, { submissionKey: 'validator-cycle:8' })).toMatchObject({
      status: 'committed',
      block: 100,
    });
    const cycle8 = (await commits.all('test-net', ALICE, 1)).filter((row) => row.submissionKey === 'validator-cycle:8');
    expect(cycle8.map((row) => [row.status, row.error])).toEqual([
      ['failed', 'NoWeightsCommitFound'],
      ['pending', null],
    ]);
  });

  it('reveals a commit once when reveals overlap (a slow reveal and the next block tick), and never marks a revealed commit failed', async () => {
    await submitter.submit(1, [{ uid: 2, weight: 1 }]);
    backend.block = 108;
    // The chain takes the first reveal slowly and refuses a second one: the commit is gone by then.
    let revealed = false;
    backend.revealBehaviour = () => {
      if (revealed) throw new ChainError('NoWeightsCommitFound', 'no commit left to reveal');
      revealed = true;
      return backend.block;
    };
    const slowReveal = backend.revealWeights.bind(backend);
    backend.revealWeights = async (...args: Parameters<ScriptedBackend['revealWeights']>) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return slowReveal(...args);
    };
    const [first, second] = await Promise.all([submitter.revealPending(1), submitter.revealPending(1)]);
    expect(backend.reveals).toHaveLength(1);
    expect([...first!, ...second!].filter((r) => r.status === 'revealed')).toHaveLength(first === second ? 2 : 1);
    expect((await commits.all('test-net', ALICE, 1))[0]).toMatchObject({ status: 'revealed', revealedBlock: 108 });
    // A late refusal of a commit already revealed does not turn it failed.
    const [row] = await commits.all('test-net', ALICE, 1);
    await commits.markFailed(row!.id, 'NoWeightsCommitFound');
    await commits.markExpired(row!.id, 'ExpiredWeightCommit');
    expect((await commits.all('test-net', ALICE, 1))[0]).toMatchObject({ status: 'revealed', error: null });
  });

  it('gives up on a commit whose reveal window has passed', async () => {
    await submitter.submit(1, [{ uid: 2, weight: 1 }]);
    backend.block = 119;
    expect(await submitter.revealPending(1)).toEqual([{ commitBlock: 100, status: 'expired' }]);
    expect(backend.reveals).toEqual([]);
  });
});
