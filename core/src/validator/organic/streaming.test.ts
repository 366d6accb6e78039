/**
 * The validator's side of a streaming job, against a simulated miner over a real websocket: the
 * streaming stage's deadline (`streaming_job_ready_timed_out`) and the miner's signature over the
 * address and certificate the client will trust (`streaming_failed` when it is missing, forged, or
 * comes before the job request). Only checked details reach the facilitator.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { silentLogger } from '../../logging/index.js';
import { signStreamingReady, type MinerToValidatorMessage, type V0StreamingJobReadyRequest } from '../../protocol/index.js';
import type { V2JobRequest } from '../../protocol/facilitator-messages.js';
import { SystemClock } from '../../time/clock.js';
import { SimulatedMiner } from '../../testkit/simulated-miner.js';
import { MinerConnection } from '../miner-client.js';
import { organicJobSpec, runOrganicJob, type StatusUpdate } from './organic-job.js';
import { fallbackHardwareClass } from '../job-driver.js';

const CLASS = 'always_on.test';
const CLIENT_CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const SERVER_CERT = '-----BEGIN CERTIFICATE-----\nserver\n-----END CERTIFICATE-----\n';
const clock = new SystemClock();
const miners: SimulatedMiner[] = [];
const connections: MinerConnection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.close();
  for (const miner of miners.splice(0)) await miner.close();
});

function request(streamingStart = 2): V2JobRequest {
  return {
    type: 'job.new',
    message_type: 'V2JobRequest',
    uuid: randomUUID(),
    executor_class: CLASS,
    docker_image: 'horde/stream:1',
    args: [],
    env: {},
    use_gpu: false,
    on_trusted_miner: false,
    download_time_limit: 1,
    execution_time_limit: 5,
    upload_time_limit: 1,
    streaming_start_time_limit: streamingStart,
    streaming_details: { public_key: CLIENT_CERT },
  } as V2JobRequest;
}

/** The executor's report as the miner relays it: ip filled in, signed by `signer`. */
function ready(jobUuid: string, signer: Hotkey, ip = '203.0.113.9'): V0StreamingJobReadyRequest {
  return signStreamingReady(
    { message_type: 'V0StreamingJobReadyRequest', job_uuid: jobUuid, public_key: SERVER_CERT, port: 6006 },
    ip,
    signer,
  );
}

async function run(
  validator: Hotkey,
  minerKey: Hotkey,
  req: V2JobRequest,
  options: {
    beforeResult?: (jobUuid: string) => MinerToValidatorMessage[];
    afterReady?: (jobUuid: string) => MinerToValidatorMessage[];
    executionDelayMs?: number;
  },
) {
  const miner = await SimulatedMiner.start({
    hotkey: minerKey,
    manifest: { [CLASS]: 1 },
    ...(options.executionDelayMs ? { executionDelayMs: options.executionDelayMs } : {}),
    beforeResult: (job) => options.beforeResult?.(job.job_uuid) ?? [],
    ...(options.afterReady ? { afterReady: options.afterReady } : {}),
  });
  miners.push(miner);
  const connection = await MinerConnection.connect(
    { hotkey: minerKey.ss58, host: '127.0.0.1', port: miner.port },
    { validator, clock, logger: silentLogger(), timeoutMs: 5_000 },
  );
  connections.push(connection);
  const spec = organicJobSpec(req, undefined, 1);
  const progress: StatusUpdate[] = [];
  const outcome = await runOrganicJob(req, spec, {
    connection,
    validator,
    clock,
    logger: silentLogger(),
    hardwareClass: fallbackHardwareClass(spec),
    cycle: 0,
    limits: { reservationMs: 5_000, startupMs: 5_000, slackMs: 2_000 },
    onProgress: (update) => progress.push(update),
  });
  return { outcome, progress, miner };
}

describe('streaming jobs at the validator', async () => {
  const [validator, minerKey, impostor] = await Promise.all(
    ['//StreamV', '//StreamM', '//StreamImpostor'].map((uri) => loadHotkey({ uri })),
  );

  it('sends the client certificate with the initial request and passes the signed details on as streaming_ready', async () => {
    const req = request();
    const { outcome, progress, miner } = await run(validator!, minerKey!, req, {
      beforeResult: (job) => [{ message_type: 'V0VolumesReadyRequest', job_uuid: job }, ready(job, minerKey!)],
    });
    expect(outcome.final.status).toBe('completed');
    expect(progress.find((p) => p.status === 'streaming_ready')?.metadata).toEqual({
      streaming_details: { streaming_server_cert: SERVER_CERT, streaming_server_address: '203.0.113.9', streaming_server_port: 6006 },
    });
    expect(miner.jobs).toHaveLength(1);
  });

  it("fails with streaming_failed, and tells the facilitator nothing of it, when the details are not the miner's signature", async () => {
    const forged = await run(validator!, minerKey!, request(), {
      // Someone else's signature over an address the miner never vouched for.
      beforeResult: (job) => [{ message_type: 'V0VolumesReadyRequest', job_uuid: job }, ready(job, impostor!, '198.51.100.66')],
    });
    expect(forged.outcome.final).toMatchObject({
      status: 'horde_failed',
      metadata: { horde_failure_details: { reported_by: 'validator', reason: 'streaming_failed' } },
    });
    expect(forged.progress.map((p) => p.status)).not.toContain('streaming_ready');

    const tampered = await run(validator!, minerKey!, request(), {
      // The miner's signature, then the port changed on the way.
      beforeResult: (job) => [{ ...ready(job, minerKey!), port: 6007 }],
    });
    expect(tampered.outcome.final.metadata?.horde_failure_details?.reason).toBe('streaming_failed');

    const early = await run(validator!, minerKey!, request(), { afterReady: (job) => [ready(job, minerKey!)] });
    expect(early.outcome.final.metadata?.horde_failure_details).toMatchObject({
      reason: 'streaming_failed',
      message: expect.stringContaining('before the job request'),
    });
    expect(early.miner.jobs).toHaveLength(0);
  });

  it('fails with streaming_job_ready_timed_out when no streaming-ready comes within leeway + download + streaming start', async () => {
    const started = Date.now();
    const { outcome } = await run(validator!, minerKey!, request(1), { executionDelayMs: 8_000 });
    expect(outcome.final).toMatchObject({
      status: 'horde_failed',
      metadata: { horde_failure_details: { reported_by: 'validator', reason: 'streaming_job_ready_timed_out' } },
    });
    // 1 s leeway + 1 s download + 1 s streaming start, not the whole job's limits.
    expect(Date.now() - started).toBeLessThan(7_000);
  });
});
