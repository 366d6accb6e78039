import { lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/index.js';
import type { ExecutorToMinerMessage, V0InitialJobRequest, V0JobRequest } from '../../protocol/messages.js';
import { SystemClock } from '../../runtime/clock.js';
import { ProcessJobRunner } from '../runners/process.js';
import { JobDriver, type JobChannel } from './job-driver.js';

const JOB_UUID = '0b7b5c3e-4a8e-4f4e-9a53-0c4b1b0b2f61';
const TIMING = { allowed_leeway: 5, download_time_limit: 10, execution_time_limit: 10, upload_time_limit: 10, streaming_start_time_limit: 5 };

/** The miner's side of the executor connection, in memory: hands over the two requests, keeps what comes back. */
function channelFor(command: string[]): JobChannel & { sent: ExecutorToMinerMessage[] } {
  const initial: V0InitialJobRequest = {
    message_type: 'V0InitialJobRequest',
    job_uuid: JOB_UUID,
    executor_class: 'always_on.test',
    docker_image: 'local/shell',
    job_started_receipt_payload: {
      receipt_type: 'JobStartedReceipt',
      job_uuid: JOB_UUID,
      miner_hotkey: 'miner',
      validator_hotkey: 'validator',
      timestamp: '2025-01-02T03:04:05Z',
      executor_class: 'always_on.test',
      is_organic: false,
      ttl: 30,
    },
    job_started_receipt_signature: '0x00',
    executor_timing: TIMING,
  };
  const job: V0JobRequest = {
    message_type: 'V0JobRequest',
    job_uuid: JOB_UUID,
    executor_class: 'always_on.test',
    docker_image: 'local/shell',
    docker_run_options_preset: 'none',
    docker_run_cmd: command,
    env: {},
  };
  const sent: ExecutorToMinerMessage[] = [];
  return {
    sent,
    initialRequest: async () => initial,
    jobRequest: async () => job,
    send: async (message) => void sent.push(message),
  };
}

describe('JobDriver', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-driver-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function driver(channel: JobChannel): JobDriver {
    return new JobDriver({
      channel,
      runner: new ProcessJobRunner({ images: { 'local/shell': ['sh', '-c'] }, logger: silentLogger() }),
      clock: new SystemClock(),
      logger: silentLogger(),
      startupTimeLimitSeconds: 10,
      volumeMaxBytes: 1_000_000,
      outputMaxBytes: 1_000_000,
      machineSpecs: async () => null,
      workRoot: dir,
    });
  }

  it('reports a finished job with its output', async () => {
    const channel = channelFor(['echo hello; echo oops >&2']);
    expect(await driver(channel).run()).toEqual({ status: 'finished' });
    const finished = channel.sent.find((m) => m.message_type === 'V0JobFinishedRequest');
    expect(finished).toMatchObject({ docker_process_stdout: 'hello\n', docker_process_stderr: 'oops\n' });
  });

  it('never writes stdout.txt / stderr.txt through a link the job left in its output directory', async () => {
    // A job (in a container, its /output is a host directory) plants links to host files; the
    // executor then writes the job's own stdout into /output/stdout.txt on the host.
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'host file\n');
    const channel = channelFor([
      `ln -s ${victim} "$HORDE_OUTPUT_DIR/stdout.txt"; ln -s ${victim} "$HORDE_OUTPUT_DIR/stderr.txt"; echo overwritten`,
    ]);
    expect(await driver(channel).run()).toEqual({ status: 'finished' });
    expect(await readFile(victim, 'utf8')).toBe('host file\n');
    expect((await lstat(victim)).isFile()).toBe(true);
  });
});
