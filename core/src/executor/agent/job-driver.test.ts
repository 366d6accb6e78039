import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { testServersEgress } from '../../../../test/support/egress.js';
import { startHttpServer } from '../../../../test/support/http-server.js';
import { readZip } from '../../../../test/support/zip.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/index.js';
import { SystemClock } from '../../time/clock.js';
import { ProcessJobRunner } from '../runners/process.js';
import { memoryJobChannel, TEST_JOB_UUID as JOB_UUID } from './__tests__/memory-channel.js';
import { ExecutorJobDriver, type JobChannel } from './job-driver.js';

const channelFor = (command: string[]) => memoryJobChannel({ command });

describe('ExecutorJobDriver', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-driver-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function driver(channel: JobChannel): ExecutorJobDriver {
    return new ExecutorJobDriver({
      channel,
      runner: new ProcessJobRunner({ images: { 'local/shell': ['sh', '-c'] }, logger: silentLogger() }),
      clock: new SystemClock(),
      logger: silentLogger(),
      startupTimeLimitSeconds: 10,
      volumeMaxBytes: 1_000_000,
      outputMaxBytes: 1_000_000,
      egress: testServersEgress(),
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
    // The files are written for an upload only (nothing else reads them).
    const server = await startHttpServer((_req, res) => void res.writeHead(200).end());
    try {
      const channel = memoryJobChannel({
        command: [`ln -s ${victim} "$HORDE_OUTPUT_DIR/stdout.txt"; ln -s ${victim} "$HORDE_OUTPUT_DIR/stderr.txt"; echo overwritten`],
        outputUpload: { output_upload_type: 'zip_and_http_put', url: `${server.url}/put` },
      });
      expect(await driver(channel).run()).toEqual({ status: 'finished' });
      expect(await readFile(victim, 'utf8')).toBe('host file\n');
      expect((await lstat(victim)).isFile()).toBe(true);
      const uploaded = await readZip(server.requests[0]!.body);
      expect(uploaded.get('stdout.txt')!.toString()).toBe('overwritten\n');
    } finally {
      await server.close();
    }
  });

  it('runs the job without waiting for the volumes-ready write, but sends no result after a progress message failed', async () => {
    const marker = join(dir, 'ran');
    const channel = channelFor([`touch ${marker}`]);
    const attempts: string[] = [];
    const failing: JobChannel = {
      initialRequest: () => channel.initialRequest(),
      jobRequest: () => channel.jobRequest(),
      send: async (message) => {
        attempts.push(message.message_type);
        // The socket takes the message, and its write fails later (the connection broke).
        if (message.message_type === 'V0VolumesReadyRequest') {
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw new Error('write EPIPE');
        }
        await channel.send(message);
      },
    };
    const outcome = await driver(failing).run();
    expect(existsSync(marker)).toBe(true); // the job started before the write's answer came
    expect(outcome).toMatchObject({ status: 'horde_failed', reason: 'unhandled_exception' });
    expect(attempts).not.toContain('V0JobFinishedRequest');
    expect(channel.sent.map((m) => m.message_type)).not.toContain('V0JobFinishedRequest');
  });

  it('runs a process job in a scratch directory of the job, removed with the job directory', async () => {
    const channel = channelFor(['pwd; echo "home=$HOME"']);
    expect(await driver(channel).run()).toEqual({ status: 'finished' });
    const finished = channel.sent.find((m) => m.message_type === 'V0JobFinishedRequest');
    const [cwd, home] = String(finished && 'docker_process_stdout' in finished ? finished.docker_process_stdout : '')
      .trim()
      .split('\n');
    expect(cwd).toMatch(new RegExp(`^${dir}/horde-job-[^/]+/scratch$`));
    expect(home).toBe(`home=${cwd}`);
    expect(existsSync(cwd!)).toBe(false);
  });
});
