/**
 * The LLM prompts job's streaming mode (`solve.mjs --server`, plugins/job-llm-prompts) through the
 * executor's streaming path: the job driver starts it with the process runner, the mTLS proxy
 * admits the client's certificate, the client asks for a seed's answers over `POST /execute-job`
 * and gets the sha-256 of the answers file — the same file the batch mode writes for that seed —
 * then `GET /terminate` ends the job.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryJobChannel } from '../../core/src/executor/agent/__tests__/memory-channel.js';
import { mtlsRequest } from '../../core/src/executor/agent/__tests__/mtls-client.js';
import { ExecutorJobDriver } from '../../core/src/executor/agent/job-driver.js';
import { ProcessJobRunner } from '../../core/src/executor/runners/process.js';
import { silentLogger } from '../../core/src/logging/index.js';
import type { V0StreamingJobReadyRequest } from '../../core/src/protocol/messages.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { generateCertificate } from '../../core/src/tls/index.js';
import { testServersEgress } from '../support/egress.js';

const SOLVE = fileURLToPath(new URL('../../plugins/job-llm-prompts/job/solve.mjs', import.meta.url));
const IMAGE = 'horde/job-llm-prompts:1';
let dir: string;
let prompts: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'horde-llm-streaming-'));
  prompts = join(dir, 'series.txt');
  await writeFile(prompts, 'What is a subnet?\nWhy do validators set weights?\nName a colour.\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The batch mode's answers file for `seed`, as the trusted miner would make it. */
async function batchAnswers(seed: string): Promise<string> {
  const out = await mkdtemp(join(dir, 'batch-'));
  const run = spawnSync(process.execPath, [SOLVE, '--temperature=0.5', '--top-p=0.8', '--max-tokens=256', '--seed', seed, prompts], {
    env: { ...process.env, HORDE_OUTPUT_DIR: out },
  });
  expect(run.status, run.stderr.toString()).toBe(0);
  return readFile(join(out, 'series.json'), 'utf8');
}

describe('the LLM prompts job in streaming mode', () => {
  it('answers a seed over mTLS with the hash of the answers the batch mode gives, and ends on /terminate', async () => {
    const client = await generateCertificate('127.0.0.1');
    let announce: (message: V0StreamingJobReadyRequest) => void = () => {};
    const ready = new Promise<V0StreamingJobReadyRequest>((resolve) => (announce = resolve));
    const channel = memoryJobChannel({
      image: IMAGE,
      command: ['--temperature=0.5', '--top-p=0.8', '--max-tokens=256', '--server', prompts],
      streamingDetails: { public_key: client.certPem, executor_ip: '127.0.0.1' },
      timing: { execution_time_limit: 60 },
      onSend: (message) => {
        if (message.message_type === 'V0StreamingJobReadyRequest') announce(message);
      },
    });
    const driver = new ExecutorJobDriver({
      channel,
      runner: new ProcessJobRunner({ images: { [IMAGE]: [process.execPath, SOLVE] }, logger: silentLogger() }),
      clock: new SystemClock(),
      logger: silentLogger(),
      startupTimeLimitSeconds: 20,
      volumeMaxBytes: 1_000_000,
      outputMaxBytes: 1_000_000,
      egress: testServersEgress(),
      machineSpecs: async () => null,
      workRoot: dir,
      streaming: { listenHost: '127.0.0.1', listenPort: 0 },
    });
    const running = driver.run();
    const report = await ready;
    const target = { host: '127.0.0.1', port: report.port, serverCertPem: report.public_key, client };

    const answered = await mtlsRequest(target, 'POST', '/execute-job', JSON.stringify({ seed: '1234' }));
    expect(answered.status).toBe(200);
    expect(answered.body).toBe(
      createHash('sha256')
        .update(await batchAnswers('1234'))
        .digest('hex'),
    );
    // Another seed, other answers.
    const other = await mtlsRequest(target, 'POST', '/execute-job', JSON.stringify({ seed: '99' }));
    expect(other.body).toBe(
      createHash('sha256')
        .update(await batchAnswers('99'))
        .digest('hex'),
    );
    expect(other.body).not.toBe(answered.body);
    expect((await mtlsRequest(target, 'POST', '/execute-job', 'not json')).status).toBe(400);

    expect(await mtlsRequest(target, 'GET', '/terminate')).toEqual({ status: 200, body: 'OK' });
    expect(await running).toEqual({ status: 'finished' });
    expect(channel.sent.find((m) => m.message_type === 'V0JobFinishedRequest')).toMatchObject({
      docker_process_stdout: 'answered 3 prompts\nanswered 3 prompts\n',
    });
  }, 60_000);
});
