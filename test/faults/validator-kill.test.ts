/**
 * kill -9 of the validator between its hash commit and the reveal (commit-reveal v2 on the
 * LocalChain), with its next batch's jobs in flight on a real `horde miner`: the restarted
 * validator reveals exactly the commit it made (the chain checks the salt, uids, values and
 * version key against the commit hash), once; the jobs it had in flight end final on the miner
 * within their deadline, and nothing of the killed process stays `running` in the validator's store.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { Store } from '../../core/src/contracts/index.js';
import { ACTIVE_JOB_STATUSES } from '../../core/src/miner/store/jobs.js';
import { openStore } from '../../core/src/store/index.js';
import { CliSubnet, SUBNET_NETUID } from './cli-subnet.js';
import { minerHealth, waitForIdleExecutors } from './miner-health.js';
import { waitUntil } from './processes.js';

// 250 ms blocks, 15 s epochs, reveal two epochs after the commit: at least 15 s between commit and
// reveal, room to kill and restart the validator on a loaded machine; 20 s cycles fit a batch.
const CHAIN = { blockTimeMs: 250, tempo: 59, revealPeriodEpochs: 2, cycleLengthBlocks: 80 };

interface CommitRow {
  commit_hash: string;
  uids: string;
  weight_values: string;
  status: string;
  commit_block: number | null;
  revealed_block: number | null;
}

describe('kill -9 of the validator between commit and reveal', () => {
  let subnet: CliSubnet;
  let chainStore: Store;
  let minerStore: Store;
  let validatorStore: Store;

  beforeAll(async () => {
    subnet = await CliSubnet.start({ chain: CHAIN, executors: 2 });
    chainStore = await openStore({ client: 'sqlite', filename: subnet.chainFile });
    minerStore = await openStore({ client: 'sqlite', filename: subnet.minerStoreFile });
    validatorStore = await openStore({ client: 'sqlite', filename: join(subnet.dir, 'validator-data', 'horde.sqlite') });
  }, 90_000);
  afterAll(async () => {
    for (const store of [chainStore, minerStore, validatorStore]) await store?.close();
    await subnet?.close();
  });

  const commitRows = (hash: string): Promise<CommitRow[]> => chainStore.db('chain_weight_commits').where({ commit_hash: hash });

  it('reveals the committed weights once after the restart and leaves no job or batch unfinished', async () => {
    const { validator, miner } = subnet;
    // The first cycle's weights committed, then the next batch's jobs on the miner's executors.
    await waitUntil(
      'the validator committed weights',
      () => validator.logged('weights committed').length > 0,
      120_000,
      () => subnet.recentLogs(),
    );
    const commit = validator.logged('weights committed')[0]!;
    const commitHash = String(commit.commitHash);
    await waitUntil(
      'the next batch has jobs on the executors',
      async () => {
        const health = await minerHealth(miner.url);
        return Object.values(health.executors).some((slot) => slot.used > 0);
      },
      30_000,
    );
    const inFlight: string[] = (
      await minerStore
        .db('miner_jobs')
        .whereIn('status', ACTIVE_JOB_STATUSES as string[])
        .select('job_uuid')
    ).map((row: { job_uuid: string }) => row.job_uuid);
    const runningBatches: Array<{ cycle: number }> = await validatorStore
      .db('validator_batches')
      .where({ status: 'running' })
      .select('cycle');
    const [before] = await commitRows(commitHash);
    expect(before).toMatchObject({ status: 'pending', revealed_block: null });
    expect(inFlight.length).toBeGreaterThan(0);
    expect(runningBatches.length).toBe(1);

    // Each in-flight job must be final by its own deadline: its executor's startup limit (10 s in
    // this subnet) and the stage limits of its initial request, from when the miner accepted it. A
    // job killed while it waited at the batch's barrier for its job request (its leeway holds the
    // class's spin-up and the batch's windows) ends only when its executor's download stage runs out.
    const deadlines = (await minerStore.db('miner_jobs').whereIn('job_uuid', inFlight).select('created_at', 'initial_job_details')).map(
      (row: { created_at: number; initial_job_details: string }) => {
        const t = (JSON.parse(row.initial_job_details) as { executor_timing: Record<string, number> }).executor_timing;
        const seconds = 10 + t.allowed_leeway! + t.download_time_limit! + t.execution_time_limit! + t.upload_time_limit!;
        return Number(row.created_at) + seconds * 1000;
      },
    );
    await validator.kill9();
    const killedAt = Date.now();
    // Timed from the kill, while the restart and the reveal go on; 15 s for the reports and the writes.
    const jobsFinal = waitUntil(
      "the killed validator's jobs are final on the miner, each by its deadline",
      async () =>
        (
          await minerStore
            .db('miner_jobs')
            .whereIn('job_uuid', inFlight)
            .whereIn('status', ACTIVE_JOB_STATUSES as string[])
        ).length === 0,
      Math.max(...deadlines) - killedAt + 15_000,
    ).then(() => Date.now() - killedAt);
    jobsFinal.catch(() => undefined);
    await validator.launch();
    const restartMs = Date.now() - killedAt;

    // The reveal: sent by the new process, accepted by the chain (the hash matched), recorded.
    await waitUntil(
      'the commit is revealed',
      async () => (await commitRows(commitHash))[0]?.status === 'revealed',
      60_000,
      () => subnet.recentLogs(),
    );
    const revealMs = Date.now() - killedAt;
    const rows = await commitRows(commitHash);
    expect(rows).toHaveLength(1);
    const revealed = rows[0]!;
    const reveals = validator.logged('weights revealed').filter((line) => line.commitBlock === Number(revealed.commit_block));
    expect(reveals).toHaveLength(1);
    // On chain: the weights the validator committed, value for value.
    const chain = await LocalChain.open({ store: chainStore, netuid: SUBNET_NETUID });
    const validatorUid = (await chain.metagraph(SUBNET_NETUID)).neurons.find((n) => n.hotkey === String(commit.hotkey))!.uid;
    const onChain = (await chain.ledger.rawWeights(SUBNET_NETUID)).get(validatorUid) ?? [];
    const committedUids = JSON.parse(revealed.uids) as number[];
    const committedValues = JSON.parse(revealed.weight_values) as number[];
    expect(onChain).toEqual(committedUids.map((uid, i) => ({ uid, value: committedValues[i]! })).filter((entry) => entry.value > 0));
    // Nothing is left on chain to reveal for that commit.
    expect((await chain.ledger.onChainCommits(SUBNET_NETUID, String(commit.hotkey))).some((c) => c.hash === commitHash)).toBe(false);

    // The jobs the killed validator had in flight end final on the miner, and the executors go idle.
    const jobsFinalMs = await jobsFinal;
    // The killed process's batch is closed at start-up; the batch it re-runs (same cycle) ends too.
    const killedCycle = runningBatches[0]!.cycle;
    expect(
      validator.logged("batches left running by a previous process recorded failed; the current cycle's batch runs again")[0],
    ).toMatchObject({ cycles: [killedCycle] });
    await waitUntil(
      "the killed cycle's batch is final",
      async () =>
        ['finished', 'failed'].includes(
          ((await validatorStore.db('validator_batches').where({ cycle: killedCycle }).first()) as { status: string }).status,
        ),
      60_000,
    );
    await waitForIdleExecutors(miner.url, 30_000);
    const statuses = await minerStore.db('miner_jobs').whereIn('job_uuid', inFlight).select('status');
    console.log(
      `validator kill -9: restarted in ${restartMs} ms, commit revealed ${revealMs} ms after the kill (once), ` +
        `${inFlight.length} in-flight jobs final ${jobsFinalMs} ms after the kill (${statuses.map((s: { status: string }) => s.status).join(', ')})`,
    );
  }, 270_000);
});
