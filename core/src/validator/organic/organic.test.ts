/**
 * The validator's organic path against a real facilitator, up to routing: signature and
 * whitelist checks, refusals relayed with ComputeHorde's metadata, reconnection. Jobs that reach a
 * miner are covered end to end in test/e2e/organic-jobs.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../chain/local/local-chain.js';
import { validatorSection } from '../../config/sections/validator.js';
import { DIALECTS, startTestFacilitator, NETUID, type TestFacilitator } from '../../facilitator/__tests__/harness.js';
import { silentLogger } from '../../logging/index.js';
import { SystemClock } from '../../time/clock.js';
import { HordeClient, type HordeJobSpec } from '../../sdk/index.js';
import { createValidator, type ValidatorHandle } from '../service.js';

const SPEC: HordeJobSpec = {
  executorClass: 'always_on.test',
  image: 'horde/echo:1',
  args: ['x'],
  downloadTimeLimitSec: 1,
  executionTimeLimitSec: 2,
  uploadTimeLimitSec: 1,
};

let f: TestFacilitator;
let chain: LocalChain;
let validator: ValidatorHandle;

function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

const clientOf = (hotkey: TestFacilitator['alice']) =>
  new HordeClient({ hotkey, validatorHotkey: f.validator.ss58, facilitatorUrl: f.handle.url!, pollIntervalMs: 50 });

describe.each(DIALECTS)('organic jobs at the validator (store: %s)', (dialect) => {
  beforeAll(async () => {
    // A short liveness window, kept by the validator's frequent heartbeats.
    f = await startTestFacilitator({ listen: true, dialect, settings: { validatorLivenessSeconds: 1 } });
    chain = await LocalChain.open({ store: f.store, hotkey: f.validator.ss58, netuid: NETUID });
    validator = await createValidator({
      hotkey: f.validator,
      chain,
      store: f.store,
      netuid: NETUID,
      settings: validatorSection.parse({
        organic: {
          facilitatorUrl: `${f.handle.url!.replace(/^http/, 'ws')}/ws/v0/`,
          whitelist: [f.bob.ss58],
          reconnectMaxDelaySeconds: 1,
          heartbeatSeconds: 0.2,
        },
      }),
      generators: [],
      hardwareClasses: [],
      scoringRules: [],
      logger: silentLogger(),
      clock: new SystemClock(),
      autoRun: false,
    });
    await waitFor('the validator to log in to the facilitator', () => validator.organic?.connected === true);
  });
  afterAll(async () => {
    await validator?.close();
    await chain?.close();
    await f?.close();
  });

  it('stays live at the facilitator through its heartbeats, so jobs reach it at once', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the 1 s liveness window
    expect(f.handle.hub.isLive(f.validator.ss58)).toBe(true);
    const job = await clientOf(f.bob).createJob(SPEC);
    // The reply is read after dispatch, so a validator this quick may already have answered it.
    expect(job.statusHistory[0]?.status).toBe('sent');
    await job.wait({ timeoutMs: 5_000 });
    expect(job.statusHistory.map((s) => s.status)).toEqual(['sent', 'received', 'rejected']);
    // Sent on creation, not queued for a later reconnect: received well inside the liveness window.
    const [sent, received] = job.statusHistory;
    expect(received!.createdAt.getTime() - sent!.createdAt.getTime()).toBeLessThan(1_000);
  });

  it('refuses a job whose signer is neither the validator nor on its whitelist', async () => {
    const job = await clientOf(f.alice).runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 10_000 });
    expect(job.status).toBe('rejected');
    expect(job.statusHistory.map((s) => s.status)).toEqual(['sent', 'received', 'rejected']);
    expect(job.statusHistory.at(-1)?.metadata?.job_rejection_details).toMatchObject({
      rejected_by: 'validator',
      reason: 'invalid_signature',
      message: expect.stringContaining(f.alice.ss58),
    });
  });

  it("rejects a whitelisted signer's job with no_miner_for_job when no miner serves the class, or no trusted miner is set", async () => {
    const bob = clientOf(f.bob);
    const noMiner = await bob.runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 10_000 });
    expect(noMiner.statusHistory.at(-1)?.metadata?.job_rejection_details).toMatchObject({
      rejected_by: 'validator',
      reason: 'no_miner_for_job',
    });
    const trusted = await bob.runUntilComplete(SPEC, { onTrustedMiner: true, maxAttempts: 1, timeoutMs: 10_000 });
    expect(trusted.statusHistory.at(-1)?.metadata?.job_rejection_details).toMatchObject({
      reason: 'no_miner_for_job',
      message: 'this validator has no trusted miner',
    });
    // Refused before reaching a miner: nothing for scoring.
    const row = await validator.organic!.store.job(noMiner.uuid);
    expect(row).toMatchObject({ status: 'rejected', minerHotkey: null, signatory: f.bob.ss58 });
  });

  it('answers a job sent again after a reconnect: its final status again, or a horde failure for a job it lost in a restart', async () => {
    const bob = clientOf(f.bob);
    const lostUpdate = await bob.runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 10_000 });
    const lostJob = await bob.runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 10_000 });
    // As if the final update of one had never reached the facilitator, and the validator had
    // crashed in the middle of the other (its row says accepted, nothing runs it).
    for (const uuid of [lostUpdate.uuid, lostJob.uuid]) {
      await f.store.db('facilitator_job_statuses').where({ job_uuid: uuid, status: 'rejected' }).delete();
      await f.store.db('facilitator_jobs').where({ uuid }).update({ status: 'received' });
    }
    await f.store.db('validator_organic_jobs').where({ job_uuid: lostJob.uuid }).update({ status: 'accepted', status_metadata: null });

    const reconnected = new Promise<void>((resolve) => validator.organic!.once('connected', resolve));
    f.handle.hub.close(); // the validator reconnects; the facilitator pushes every open job again
    await reconnected;
    await lostUpdate.refresh();
    await lostJob.refresh();
    await lostUpdate.wait({ timeoutMs: 10_000 });
    await lostJob.wait({ timeoutMs: 10_000 });
    expect(lostUpdate.status).toBe('rejected');
    expect(lostUpdate.statusHistory.map((s) => s.status)).toEqual(['sent', 'received', 'rejected']);
    expect(lostUpdate.statusHistory.at(-1)?.metadata?.job_rejection_details?.reason).toBe('no_miner_for_job');
    expect(lostJob.status).toBe('horde_failed');
    expect(lostJob.displayStatus).toBe('Failed');
    expect(lostJob.statusHistory.at(-1)?.metadata?.horde_failure_details).toMatchObject({
      reported_by: 'validator',
      reason: 'unhandled_exception',
      message: expect.stringMatching(/restarted/),
    });
  });

  it('logs in again after the facilitator drops it, and then gets the jobs queued meanwhile', async () => {
    let reconnected = false;
    validator.organic!.once('connected', () => {
      reconnected = true;
    });
    f.handle.hub.close();
    await waitFor('the validator to notice', () => validator.organic!.connected === false);
    const bob = clientOf(f.bob);
    const job = await bob.createJob(SPEC);
    await waitFor('the validator to reconnect', () => reconnected, 10_000);
    await job.wait({ timeoutMs: 10_000 });
    expect(job.status).toBe('rejected');
    expect(job.statusHistory.map((s) => s.status)).toEqual(['sent', 'received', 'rejected']);
  });
});
