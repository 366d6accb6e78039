/**
 * The heart of the system, end to end over real sockets: a validator (written from the protocol)
 * authenticates to a real miner, sends a job with a signed receipt, the miner starts a real
 * `horde executor` process through the local executor manager, the executor downloads a zip volume
 * from the S3 server, runs the job (in the test dockerd, or as a local process), uploads its
 * output to a presigned PUT URL, and the results and receipts come back — and the receipts are
 * then served from the miner's receipt pages with a Range request.
 */
import { randomUUID } from 'node:crypto';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../core/src/objectstore/s3.js';
import { verifyReceipt } from '../../core/src/protocol/receipts.js';
import { utcNowPydantic } from '../../core/src/protocol/datetime.js';
import type { Receipt } from '../../core/src/contracts/index.js';
import { receiptPageAt } from '../../core/src/miner/receipts/pages.js';
import { docker, s3Config, testImage, uniqueBucketName } from '../support/services.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';

/** The job: read the volume, write an output file and an artifact, print. Same command for both runners. */
const JOB_SCRIPT = [
  'V=${HORDE_VOLUME_DIR:-/volume}; O=${HORDE_OUTPUT_DIR:-/output}; A=${HORDE_ARTIFACTS_DIR:-/artifacts}',
  'echo "input: $(cat $V/data/input.txt)"',
  'echo "secret=$JOB_SECRET" > $O/result.txt',
  'echo "artifact body" > $A/note.txt',
  'echo "to stderr" >&2',
].join('; ');

function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
}

function unzip(buffer: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const files: Record<string, string> = {};
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream
            .on('data', (c: Buffer) => chunks.push(c))
            .on('end', () => {
              files[entry.fileName] = Buffer.concat(chunks).toString();
              zip.readEntry();
            });
        });
      });
      zip.on('end', () => resolve(files));
      zip.readEntry();
    });
  });
}

const cases = [
  { runner: 'docker', dialect: 'sqlite' },
  { runner: 'docker', dialect: 'postgres' },
  { runner: 'process', dialect: 'sqlite' },
  { runner: 'process', dialect: 'postgres' },
] as const;

describe.each(cases)('a job end to end: $runner runner, $dialect store', ({ runner, dialect }) => {
  let env: TestMiner;
  let objects: S3ObjectStore;

  beforeAll(async () => {
    objects = new S3ObjectStore({ ...s3Config(uniqueBucketName('miner-e2e')) });
    await objects.ensureBucket();
    if (runner === 'docker') await docker().getImage(testImage()).inspect(); // the test dockerd has the image
    env = await startTestMiner({
      dialect,
      runner,
      // The process runner stands in for the image with `env`, so the job's `sh -c ...` runs as is.
      processImages: { [testImage()]: ['env'] },
      executor: { machineSpecs: true },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('runs the job and returns stdout, artifacts, the uploaded output and countersigned receipts', async () => {
    const key = randomUUID();
    await objects.put(`in/${key}.zip`, await zipOf({ 'input.txt': 'hello from s3' }));
    const volumeUrl = await objects.presignGet(`in/${key}.zip`, 600);
    const uploadUrl = await objects.presignPut(`out/${key}.zip`, 600);

    const jobStartedAt = Date.now();
    const validator = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    const manifest = await validator.expect('V0ExecutorManifestRequest');
    expect(manifest.manifest).toEqual({ [TEST_CLASS]: 1 });

    const timing = {
      allowed_leeway: 5,
      download_time_limit: 20,
      execution_time_limit: 30,
      upload_time_limit: 20,
      streaming_start_time_limit: 5,
    };
    const { jobUuid, receipt: started } = await validator.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      volume: { volume_type: 'zip_url', contents: volumeUrl, relative_path: 'data' },
      executor_timing: timing,
    });
    await validator.expect('V0AcceptJobRequest', jobUuid, 7_000);
    const accepted = await validator.acceptedReceipt(jobUuid, 120);
    const ready = await validator.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    expect(ready.executor_token ?? null).toBeNull(); // the token never reaches the validator

    const sentAt = Date.now();
    const timeStarted = utcNowPydantic();
    await validator.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', JOB_SCRIPT],
      env: { JOB_SECRET: 's3cr3t' },
      output_upload: { output_upload_type: 'zip_and_http_put', url: uploadUrl },
      artifacts_dir: '/artifacts',
    });
    await validator.expect('V0VolumesReadyRequest', jobUuid, 30_000);
    await validator.expect('V0ExecutionDoneRequest', jobUuid, 40_000);
    const specs = await validator.expect('V0MachineSpecsRequest', jobUuid, 30_000);
    expect(specs.specs.specs).toMatchObject({ cpu: expect.anything(), ram: expect.anything() });
    const finished = await validator.expect('V0JobFinishedRequest', jobUuid, 30_000);

    expect(finished.docker_process_stdout).toContain('input: hello from s3');
    expect(finished.docker_process_stderr).toContain('to stderr');
    expect(Buffer.from(finished.artifacts?.['/artifacts/note.txt'] ?? '', 'base64').toString()).toBe('artifact body\n');
    expect(Object.keys(finished.upload_results ?? {})).toEqual(['output.zip']);
    const output = await unzip(await objects.get(`out/${key}.zip`));
    expect(output['result.txt']).toBe('secret=s3cr3t\n');
    expect(output['stdout.txt']).toContain('input: hello from s3');

    const finishedReceipt = await validator.finishedReceipt(jobUuid, timeStarted, (Date.now() - sentAt) * 1000, 1.5);
    // Receipts are handled in order: a message after the receipt proves it was processed.
    await validator.send({ message_type: 'V0MainHotkeyMessage' });
    expect((await validator.expect('V0MainHotkeyMessage')).main_hotkey).toBe(env.minerHotkey.ss58);
    await validator.close();

    // The receipt pages: each whole page, then only new bytes with Range. The job may straddle a
    // 5-minute page boundary, so read every page from its start to now.
    const pageTexts = new Map<number, string>();
    for (let page = receiptPageAt(jobStartedAt); page <= receiptPageAt(Date.now()); page += 1) {
      const response = await fetch(`${env.url}/receipts/${page}.jsonl`);
      if (response.status === 404) continue;
      expect(response.status).toBe(200);
      pageTexts.set(page, await response.text());
    }
    const lines = [...pageTexts.values()].flatMap((text) => text.trimEnd().split('\n')).map((line) => JSON.parse(line) as Receipt);
    const ours = lines.filter((r) => r.payload.job_uuid === jobUuid);
    expect(ours.map((r) => r.payload.receipt_type)).toEqual(['JobStartedReceipt', 'JobAcceptedReceipt', 'JobFinishedReceipt']);
    for (const [sent, served] of [
      [started, ours[0]!],
      [accepted, ours[1]!],
      [finishedReceipt, ours[2]!],
    ] as const) {
      expect(served.validator_signature).toBe(sent.validator_signature);
      expect(await verifyReceipt(served)).toEqual({ ok: true }); // both signatures valid
      expect(served.payload.miner_hotkey).toBe(env.minerHotkey.ss58);
    }

    // A validator that already read up to the finished receipt's line asks for the rest with Range.
    const [page, text] = [...pageTexts.entries()].find(([, t]) => t.includes(finishedReceipt.validator_signature))!;
    const lineStart = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n', text.indexOf(finishedReceipt.validator_signature)) + 1));
    const size = Buffer.byteLength(text);
    const rest = await fetch(`${env.url}/receipts/${page}.jsonl`, { headers: { Range: `bytes=${lineStart}-` } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${lineStart}-${size - 1}/${size}`);
    const tail = await rest.text();
    expect((JSON.parse(tail.split('\n')[0]!) as Receipt).payload).toMatchObject({ job_uuid: jobUuid, receipt_type: 'JobFinishedReceipt' });
    expect(tail).toBe(Buffer.from(text).subarray(lineStart).toString());
    const nothingNew = await fetch(`${env.url}/receipts/${page}.jsonl`, { headers: { Range: `bytes=${size}-` } });
    expect(nothingNew.status).toBe(416);

    const metrics = await (await fetch(`${env.url}/metrics`)).text();
    expect(metrics).toMatch(/horde_miner_jobs_accepted_total\{executor_class="always_on.test"\} 1/);
    expect(metrics).toMatch(/horde_miner_jobs_finished_total\{executor_class="always_on.test"\} 1/);
  }, 120_000);
});

describe('a validator that drops its connection mid-job', () => {
  let env: TestMiner;
  beforeAll(async () => {
    env = await startTestMiner({ dialect: 'sqlite', runner: 'process', processImages: { [testImage()]: ['env'] } });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('gets the result that arrived while it was away when it reconnects', async () => {
    const timing = {
      allowed_leeway: 5,
      download_time_limit: 10,
      execution_time_limit: 10,
      upload_time_limit: 10,
      streaming_start_time_limit: 5,
    };
    const first = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await first.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await first.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: timing });
    await first.expect('V0AcceptJobRequest', jobUuid);
    await first.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await first.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'sleep 1; echo done while you were away'],
      env: {},
    });
    await first.close();

    // The job finishes with nobody listening; the miner keeps the result for the validator.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const row = (await env.store.db('miner_jobs').where({ job_uuid: jobUuid }).first('status', 'result_reported_at')) as {
        status: string;
        result_reported_at: unknown;
      };
      if (row.status === 'finished') {
        expect(row.result_reported_at).toBeNull(); // not delivered yet
        break;
      }
      if (Date.now() > deadline) throw new Error(`job still ${row.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const again = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await again.expect('V0ExecutorManifestRequest');
    // Everything it missed, in order (volumes-ready may have reached the first connection still).
    const missed: string[] = [];
    let stdout = '';
    for (;;) {
      const message = await again.next();
      missed.push(message.message_type);
      if (message.message_type === 'V0JobFinishedRequest') {
        stdout = message.docker_process_stdout;
        break;
      }
    }
    expect(missed.filter((t) => t !== 'V0VolumesReadyRequest')).toEqual(['V0ExecutionDoneRequest', 'V0JobFinishedRequest']);
    expect(stdout).toBe('done while you were away\n');
    await again.close();
    const row = (await env.store.db('miner_jobs').where({ job_uuid: jobUuid }).first('result_reported_at')) as {
      result_reported_at: unknown;
    };
    expect(row.result_reported_at).not.toBeNull();
  }, 60_000);
});
