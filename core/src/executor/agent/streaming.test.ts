/**
 * A streaming job through the executor's job driver with the process runner (the fast variant;
 * test/e2e/streaming-jobs.test.ts runs it through the SDK, a miner and a Docker container): the
 * client's certificate in the initial request, the server certificate made for the executor's
 * address, the mTLS proxy in front of the job, and the original's failure reasons.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServersEgress } from '../../../../test/support/egress.js';
import type { ExecutorToMinerMessage, V0StreamingJobReadyRequest } from '../../protocol/messages.js';
import { silentLogger } from '../../logging/index.js';
import { SystemClock } from '../../time/clock.js';
import { generateCertificate, parseCertificate, type CertificateAndKey } from '../../tls/index.js';
import { ProcessJobRunner } from '../runners/process.js';
import { memoryJobChannel } from './__tests__/memory-channel.js';
import { mtlsRequest } from './__tests__/mtls-client.js';
import { STREAMING_IMAGE, streamingProcessImages } from './__tests__/streaming-job-server.js';
import { ExecutorJobDriver, type JobChannel, type ExecutorJobOutcome } from './job-driver.js';

let dir: string;
let client: CertificateAndKey;
let stranger: CertificateAndKey;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'horde-streaming-'));
  [client, stranger] = await Promise.all([generateCertificate('127.0.0.1'), generateCertificate('127.0.0.1')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function driver(channel: JobChannel, options: { healthTimeoutMs?: number; env?: Record<string, string> } = {}): ExecutorJobDriver {
  const images = options.env
    ? {
        [STREAMING_IMAGE]: ['env', ...Object.entries(options.env).map(([k, v]) => `${k}=${v}`), ...streamingProcessImages[STREAMING_IMAGE]],
      }
    : streamingProcessImages;
  return new ExecutorJobDriver({
    channel,
    runner: new ProcessJobRunner({ images, logger: silentLogger() }),
    clock: new SystemClock(),
    logger: silentLogger(),
    startupTimeLimitSeconds: 20,
    volumeMaxBytes: 1_000_000,
    outputMaxBytes: 1_000_000,
    egress: testServersEgress(),
    machineSpecs: async () => null,
    workRoot: dir,
    streaming: { listenHost: '127.0.0.1', listenPort: 0, ...(options.healthTimeoutMs ? { healthTimeoutMs: options.healthTimeoutMs } : {}) },
  });
}

/** The channel of a streaming job; `ready` resolves with the driver's streaming-ready report. */
function streamingChannel(details: { public_key: string; executor_ip: string | null }, timing = {}) {
  let announce: (message: V0StreamingJobReadyRequest) => void = () => {};
  const ready = new Promise<V0StreamingJobReadyRequest>((resolve) => (announce = resolve));
  const channel = memoryJobChannel({
    image: STREAMING_IMAGE,
    command: [],
    streamingDetails: details,
    timing: { execution_time_limit: 30, ...timing },
    onSend: (message: ExecutorToMinerMessage) => {
      if (message.message_type === 'V0StreamingJobReadyRequest') announce(message);
    },
  });
  return { channel, ready };
}

const failureOf = (sent: ExecutorToMinerMessage[]) =>
  sent.find((m) => m.message_type === 'V0JobFailedRequest' || m.message_type === 'V0HordeFailedRequest');

describe('streaming jobs in the job driver', () => {
  it('serves the client with its certificate over mTLS, refuses any other, and ends when the job ends', async () => {
    const { channel, ready } = streamingChannel({ public_key: client.certPem, executor_ip: '127.0.0.1' });
    const running = driver(channel).run();
    const report = await ready;
    // The server certificate is made for the address the miner gave, as ComputeHorde's.
    expect(parseCertificate(report.public_key).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(report.port).toBeGreaterThan(0);
    expect(channel.sent.map((m) => m.message_type)).toEqual([
      'V0ExecutorReadyRequest',
      'V0VolumesReadyRequest',
      'V0StreamingJobReadyRequest',
    ]);

    const target = { host: '127.0.0.1', port: report.port, serverCertPem: report.public_key };
    expect(await mtlsRequest({ ...target, client }, 'POST', '/echo', 'hello job')).toEqual({ status: 200, body: 'HELLO JOB' });
    expect(await mtlsRequest({ ...target, client }, 'POST', '/echo', 'again')).toEqual({ status: 200, body: 'AGAIN' });
    // Another certificate (self-signed like the client's, same names) gets nothing from the job.
    const refused = await mtlsRequest({ ...target, client: stranger }, 'POST', '/echo', 'let me in').then(
      (response) => `answered ${response.status}`,
      (error: Error) => error.message,
    );
    expect(refused).not.toMatch(/^answered/);
    // No certificate at all: refused too.
    const anonymous = await mtlsRequest({ ...target, client: { certPem: '', keyPem: '' } }, 'GET', '/echo').then(
      (response) => `answered ${response.status}`,
      (error: Error) => error.message,
    );
    expect(anonymous).not.toMatch(/^answered/);

    expect(await mtlsRequest({ ...target, client }, 'GET', '/terminate')).toEqual({ status: 200, body: 'bye' });
    expect(await running).toEqual({ status: 'finished' });
    const finished = channel.sent.find((m) => m.message_type === 'V0JobFinishedRequest');
    // Two echoes and the terminate: the refused requests never reached the job.
    expect(finished).toMatchObject({ docker_process_stdout: 'served 3 requests\n' });
    // The proxy is gone with the job.
    await expect(mtlsRequest({ ...target, client }, 'GET', '/echo')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('fails a job whose server never becomes healthy with the original reason, and stops it', async () => {
    const { channel } = streamingChannel({ public_key: client.certPem, executor_ip: '127.0.0.1' });
    const started = Date.now();
    const outcome: ExecutorJobOutcome = await driver(channel, { healthTimeoutMs: 1_500, env: { NEVER_HEALTHY: '1' } }).run();
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'timeout',
      stage: 'streaming_startup',
      message: 'Streaming job health check failed',
    });
    expect(failureOf(channel.sent)).toMatchObject({ message_type: 'V0JobFailedRequest', reason: 'timeout', stage: 'streaming_startup' });
    expect(channel.sent.some((m) => m.message_type === 'V0StreamingJobReadyRequest')).toBe(false);
    // Stopped after the health window, not at the 30 s execution limit.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('fails with streaming_failed when the miner gave no executor address or the client key is no certificate', async () => {
    const noIp = streamingChannel({ public_key: client.certPem, executor_ip: null });
    expect(await driver(noIp.channel).run()).toMatchObject({
      status: 'horde_failed',
      reason: 'streaming_failed',
      stage: 'executor_startup',
    });
    expect(failureOf(noIp.channel.sent)).toMatchObject({
      message_type: 'V0HordeFailedRequest',
      reason: 'streaming_failed',
      reported_by: 'executor',
    });

    const badKey = streamingChannel({ public_key: 'not a certificate', executor_ip: '127.0.0.1' });
    expect(await driver(badKey.channel).run()).toMatchObject({ status: 'horde_failed', reason: 'streaming_failed' });
    expect(badKey.channel.sent.some((m) => m.message_type === 'V0ExecutorReadyRequest')).toBe(false);
  });
});
