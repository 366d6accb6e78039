/**
 * Hostile archives in volumes, end to end (a real miner, real `horde executor` processes): a zip
 * whose header lies about its size (the 522 KB entry that inflates to 512 MiB), zip-slip, absolute
 * names, symlinks out, bombs past the volume cap and a URL that never answers. Each must end as a
 * clear job failure reported by the executor itself (`V0JobFailedRequest`, so the agent lived to
 * report it), write nothing outside the job's directory, and leave the miner serving the next job.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import type { TestValidator } from '../support/test-validator.js';
import { connectAsValidator, sendShellJob } from './job-steps.js';
import { absolutePathZip, honestBombZip, lyingSizeZip, symlinkOutZip, zipSlip } from './hostile-zips.js';
import { waitForIdleExecutors } from './miner-health.js';

const IMAGE = testImage();
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 20,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};
const VOLUME_CAP = 8 * 1024 * 1024;

describe('hostile archives in volumes', () => {
  let env: TestMiner;
  let workRoot: string;
  let outside: string;
  let hang: Server;
  let hangUrl: string;
  const hanging: Socket[] = [];

  beforeAll(async () => {
    workRoot = mkdtempSync(join(tmpdir(), 'horde-faults-archives-'));
    outside = `horde-fault-${process.pid}-${Date.now()}`;
    // Accepts the connection, reads the request and never answers.
    hang = createServer((socket) => {
      hanging.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    hangUrl = `http://127.0.0.1:${(hang.address() as { port: number }).port}/volume.zip`;
    env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'process',
      processImages: { [IMAGE]: ['env'] },
      executor: { workDir: workRoot, volumeMaxBytes: VOLUME_CAP, egressAllowlist: ['127.0.0.1/32'] },
    });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
    for (const socket of hanging) socket.destroy();
    await new Promise((resolve) => hang?.close(resolve));
    rmSync(workRoot, { recursive: true, force: true });
  });
  beforeEach(async () => {
    if (env) await waitForIdleExecutors(env.url);
  });

  async function runWithVolume(volume: object, timing = TIMING): Promise<{ client: TestValidator; jobUuid: string }> {
    const client = await connectAsValidator({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    const jobUuid = await sendShellJob(client, {
      executorClass: TEST_CLASS,
      image: IMAGE,
      timing,
      script: 'echo ran',
      request: { volume: volume as never },
    });
    return { client, jobUuid };
  }

  const inline = (zip: Buffer) => ({ volume_type: 'inline', contents: zip.toString('base64') });

  /** Nothing the archive named landed beside the job directory, in /tmp, or anywhere under the work root. */
  async function assertNothingOutside(): Promise<void> {
    expect(existsSync(join(tmpdir(), outside))).toBe(false);
    expect(existsSync(join('/tmp', outside))).toBe(false);
    // Job directories are removed once the job ended (the agent cleans up after its final
    // message, in the background): the work root is empty again within seconds.
    const deadline = Date.now() + 10_000;
    while (readdirSync(workRoot).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readdirSync(workRoot)).toEqual([]);
  }

  it('fails a 522 KB zip whose entry declares 1,000 bytes but holds 512 MiB as download_failed, agent alive', async () => {
    const zip = await lyingSizeZip('zeros.bin', 512 * 1024 * 1024, 1000);
    expect(zip.length).toBeLessThan(600_000);
    const { client, jobUuid } = await runWithVolume(inline(zip));
    // A V0JobFailedRequest comes from the executor agent: it survived the archive.
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
    expect(failed).toMatchObject({ reason: 'download_failed', stage: 'volume_download' });
    expect(failed.message).toMatch(/declares/);
    expect(client.received.some((m) => m.message_type === 'V0HordeFailedRequest')).toBe(false);
    await client.close();
    await waitForIdleExecutors(env.url);
    await assertNothingOutside();
  }, 90_000);

  it.each([
    ['zip-slip (../../name)', (name: string) => zipSlip(name), /escape/],
    ['an absolute entry name', (name: string) => absolutePathZip(name), /escape|absolute/],
    ['a symlink pointing out of the volume', () => symlinkOutZip('/tmp'), /symbolic link/],
  ])(
    'fails %s as download_failed and writes nothing outside',
    async (_label, make, reason) => {
      const { client, jobUuid } = await runWithVolume(inline(await make(outside)));
      const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
      expect(failed).toMatchObject({ reason: 'download_failed', stage: 'volume_download' });
      expect(failed.message).toMatch(reason);
      await client.close();
      await waitForIdleExecutors(env.url);
      await assertNothingOutside();
    },
    60_000,
  );

  it('fails an archive that unpacks past the volume cap as download_failed', async () => {
    const { client, jobUuid } = await runWithVolume(inline(await honestBombZip(VOLUME_CAP + 1024 * 1024)));
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
    expect(failed).toMatchObject({ reason: 'download_failed', stage: 'volume_download' });
    expect(failed.message).toMatch(/limit/);
    await client.close();
    await waitForIdleExecutors(env.url);
    await assertNothingOutside();
  }, 60_000);

  it('fails a volume URL that never answers within the download stage, and serves the next job', async () => {
    const { client, jobUuid } = await runWithVolume(
      { volume_type: 'zip_url', contents: hangUrl },
      { ...TIMING, allowed_leeway: 1, download_time_limit: 2 },
    );
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
    expect(failed).toMatchObject({ reason: 'timeout', stage: 'volume_download' });
    await client.close();
    await waitForIdleExecutors(env.url);
    await assertNothingOutside();

    // The miner still runs a good job to the end.
    const next = await runWithVolume(inline(await honestBombZip(1024)));
    await next.client.expect('V0VolumesReadyRequest', next.jobUuid, 30_000);
    await next.client.expect('V0ExecutionDoneRequest', next.jobUuid, 30_000);
    await next.client.expect('V0JobFinishedRequest', next.jobUuid, 30_000);
    await next.client.close();
  }, 90_000);
});
