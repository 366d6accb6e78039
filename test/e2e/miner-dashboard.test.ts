/**
 * The miner's dashboard on a real miner (real store, real `horde executor` processes): executors by
 * class, live jobs with their stage timings, recent jobs with the failure reason, the validators
 * connected, and the miner's metrics including stage durations. Runs core/dist: build first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardPage, TableSection } from '../../core/src/dashboard/view.js';
import { testImage } from '../support/services.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

function section(page: DashboardPage, id: string): TableSection {
  const found = page.sections.find((s) => s.id === id);
  if (!found || found.kind !== 'table') throw new Error(`no table section ${id} in ${page.sections.map((s) => s.id).join(', ')}`);
  return found;
}

/** The next message of `type` for the job, skipping the stage reports before it. */
async function until(client: TestValidator, type: string, jobUuid: string): Promise<Record<string, unknown>> {
  for (;;) {
    const message = (await client.next(30_000)) as unknown as Record<string, unknown>;
    if (message['message_type'] === type && message['job_uuid'] === jobUuid) return message;
  }
}

const text = (cell: unknown) => (cell !== null && typeof cell === 'object' ? (cell as { text: string }).text : String(cell));

describe('miner dashboard', () => {
  let env: TestMiner;
  let dashboard: string;

  beforeAll(async () => {
    env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'process',
      processImages: { [testImage()]: ['env'] },
      executors: 2,
      dashboard: {},
    });
    dashboard = env.miner.dashboardUrl!;
  });
  afterAll(async () => {
    await env?.close();
  });

  const page = async () => (await (await fetch(new URL('api/page', dashboard))).json()) as DashboardPage;

  it('shows executors by class, a live job with its stages, then the finished and the failed job with its reason', async () => {
    expect(dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const before = await page();
    expect(section(before, 'executors').rows).toEqual([[TEST_CLASS, 'LocalExecutorManager', 2, { text: '0', tone: 'muted' }, 2]]);

    const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    const ok = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await client.expect('V0AcceptJobRequest', ok.jobUuid, 7_000);
    await client.acceptedReceipt(ok.jobUuid, 60);
    await client.expect('V0ExecutorReadyRequest', ok.jobUuid, 30_000);

    // Executor ready, job not sent yet: live, in waiting_for_payload, with the first stage timed.
    const live = await page();
    const liveRow = section(live, 'live-jobs').rows.find((row) => row[0] === ok.jobUuid.slice(0, 8))!;
    expect(text(liveRow[3])).toBe('waiting_for_payload');
    expect(String(liveRow[4])).toMatch(/^waiting_for_executor \d+(\.\d)? (ms|s) → waiting_for_payload \d/);
    expect(section(live, 'executors').rows[0]![3]).toEqual({ text: '1', tone: 'ok' });
    expect(section(live, 'validators').rows.map((row) => [text(row[0]), text(row[1])])).toEqual([
      [`${env.validatorA.ss58.slice(0, 8)}…${env.validatorA.ss58.slice(-6)}`, 'yes (1)'],
    ]);

    await client.jobRequest({
      job_uuid: ok.jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'echo fine'],
      env: {},
    });
    await until(client, 'V0JobFinishedRequest', ok.jobUuid);

    const bad = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await client.expect('V0AcceptJobRequest', bad.jobUuid, 7_000);
    await client.acceptedReceipt(bad.jobUuid, 60);
    await client.expect('V0ExecutorReadyRequest', bad.jobUuid, 30_000);
    await client.jobRequest({
      job_uuid: bad.jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'exit 3'],
      env: {},
    });
    await until(client, 'V0JobFailedRequest', bad.jobUuid);
    await client.close();

    // The end is written as the result goes out: the page shows it once the row has landed.
    await expect.poll(async () => section(await page(), 'live-jobs').rows, { timeout: 10_000 }).toEqual([]);
    const after = await page();
    expect(section(after, 'live-jobs').rows).toEqual([]);
    const recent = section(after, 'recent-jobs-wide').rows;
    const finished = recent.find((row) => row[0] === ok.jobUuid.slice(0, 8))!;
    expect(text(finished[3])).toBe('finished');
    expect(String(finished[4])).toMatch(/waiting_for_executor .+ → waiting_for_payload .+ → running .+ → finished$/);
    const failed = recent.find((row) => row[0] === bad.jobUuid.slice(0, 8))!;
    expect(text(failed[3])).toBe('failed');
    expect(failed[5]).toMatchObject({ text: 'nonzero_return_code', tone: 'bad' });

    // The same page as HTML, and the metrics on the dashboard's port.
    const html = await (await fetch(dashboard)).text();
    expect(html).toContain('horde miner');
    expect(html).toContain(bad.jobUuid.slice(0, 8));
    const metrics = await (await fetch(new URL('metrics', dashboard))).text();
    expect(metrics).toMatch(
      new RegExp(`horde_miner_job_stage_duration_seconds_count\\{executor_class="${TEST_CLASS.replace('.', '\\.')}",stage="running"\\} 2`),
    );
    expect(metrics).toMatch(/horde_miner_jobs_failed_total\{[^}]*reason="nonzero_return_code"[^}]*\} 1/);

    // Receipts: the started receipts of both jobs are stored under the validator that signed them…
    const stored = section(after, 'receipts-stored').rows;
    expect(stored.map((row) => text(row[0]))).toEqual([`${env.validatorA.ss58.slice(0, 8)}…${env.validatorA.ss58.slice(-6)}`]);
    expect(Number(stored[0]![1])).toBe(2);
    // …and a validator's page fetch shows up as served, on the page that holds them.
    const pageNo = section(after, 'receipts-served').rows.find((r) => text(r[2]) !== 'not on disk')![0] as number;
    expect((await fetch(`${env.miner.url}/receipts/${pageNo}.jsonl`)).status).toBe(200);
    const served = section(await page(), 'receipts-served');
    const row = served.rows.find((r) => r[0] === pageNo)!;
    expect(text(row[3])).toBe('1');
    expect(row[4]).toBe('200 ×1');
    expect(row[7]).toBe('127.0.0.1');
  }, 120_000);
});
