import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey } from '../../core/src/keys/index.js';
import { openStore } from '../../core/src/store/index.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import type { JobRecord } from '../../core/src/validator/job-driver.js';

// Runs core/dist: `npm run build` first.
const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const run = (args: string[]) =>
  promisify(execFile)('node', [CLI, ...args]).catch((error: { stdout: string; stderr: string; code: number }) => error);

const job = (jobUuid: string, fields: Partial<JobRecord>): JobRecord => ({
  jobUuid,
  cycle: 7,
  minerHotkey: '5FailingMinerHotkeyXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
  executorClass: 'always_on.test',
  kind: 'synthetic',
  generator: 'hash-crack',
  description: 'hash-crack',
  status: 'completed',
  accepted: true,
  correct: true,
  inTime: true,
  timeTookMs: 100,
  details: 'answer correct',
  rejectionReason: null,
  rejectionReceipts: [],
  checkedAt: null,
  failure: null,
  ...fields,
});

describe('horde validator jobs', () => {
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'horde-validator-jobs-'));
    const filename = join(dir, 'validator.sqlite');
    configFile = join(dir, 'horde.config.json');
    writeFileSync(configFile, JSON.stringify({ hotkey: '//JobsCliValidator', store: { client: 'sqlite', filename }, plugins: [] }));
    const hotkey = await loadHotkey({ uri: '//JobsCliValidator' });
    const store = await openStore({ client: 'sqlite', filename });
    const validatorStore = new ValidatorStore(store, hotkey.ss58);
    await validatorStore.saveJobs(
      [
        job('11111111-ok', {}),
        job('22222222-failed', {
          status: 'failed',
          details: 'job failed',
          failure: { source: 'executor', reason: 'nonzero_return_code', stage: 'execution', message: 'exit 1' },
          history: [
            { status: 'sent', at: Date.UTC(2026, 0, 2, 3, 4, 5, 0), detail: null },
            { status: 'accepted', at: Date.UTC(2026, 0, 2, 3, 4, 5, 250), detail: null },
            { status: 'job_sent', at: Date.UTC(2026, 0, 2, 3, 4, 7, 0), detail: null },
            { status: 'failed', at: Date.UTC(2026, 0, 2, 3, 4, 9, 500), detail: 'nonzero_return_code · execution (by the executor)' },
          ],
        }),
        job('33333333-horde', {
          status: 'horde_failed',
          cycle: 8,
          details: 'timeout',
          failure: { source: 'validator', reason: 'timeout', stage: 'waiting for the result', message: 'no job result in 6 s' },
        }),
      ],
      Date.now(),
    );
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--failed lists only failed jobs with who reported the failure, its reason, stage and message', async () => {
    const { stdout } = await run(['validator', 'jobs', '--failed', '--config', configFile]);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CYCLE\s+JOB\s+MINER\s+CLASS\s+KIND\s+STATUS\s+BY\s+REASON\s+STAGE\s+MESSAGE$/);
    expect(lines).toHaveLength(3);
    expect(stdout).not.toContain('11111111');
    expect(stdout).toMatch(
      /22222222\s+5Failing…XXXXXXXX\s+always_on\.test\s+synthetic\s+failed\s+executor\s+nonzero_return_code\s+execution\s+exit 1/,
    );
    expect(stdout).toMatch(/33333333.*horde_failed\s+validator\s+timeout\s+waiting for the result\s+no job result in 6 s/);
  });

  it('filters by cycle, prints JSON, and refuses a bad flag with a message', async () => {
    const { stdout } = await run(['validator', 'jobs', '--failed', '--cycle', '8', '--json', '--config', configFile]);
    const parsed = JSON.parse(stdout) as { jobs: Array<{ jobUuid: string; failure: { reason: string } }> };
    expect(parsed.jobs.map((j) => [j.jobUuid, j.failure.reason])).toEqual([['33333333-horde', 'timeout']]);

    const all = await run(['validator', 'jobs', '--config', configFile]);
    expect(all.stdout).toContain('11111111');

    const bad = await run(['validator', 'jobs', '--limit', 'lots', '--config', configFile]);
    expect((bad as { code: number }).code).toBe(1);
    expect(bad.stderr).toContain('--limit must be a whole number of at least 1, got lots');
  });

  it('shows one job by its uuid prefix with why it failed and every status it went through, timed', async () => {
    const { stdout } = await run(['validator', 'jobs', '22222222', '--config', configFile]);
    expect(stdout).toContain('Job 22222222-failed (synthetic, cycle 7)');
    expect(stdout).toContain('failed  nonzero_return_code in execution, reported by the executor: exit 1');
    const table = stdout.slice(stdout.indexOf('AT')).trim().split('\n');
    expect(table[0]).toMatch(/^AT\s+SINCE SENT\s+STEP\s+STATUS\s+DETAIL$/);
    expect(table.slice(1).map((line) => line.split(/\s{2,}/).slice(1))).toEqual([
      ['+0.000 s', '-', 'sent'],
      ['+0.250 s', '0.250 s', 'accepted'],
      ['+2.000 s', '1.750 s', 'job_sent'],
      ['+4.500 s', '2.500 s', 'failed', 'nonzero_return_code · execution (by the executor)'],
    ]);
    expect(table[1]).toMatch(/^2026-01-02 03:04:05\.000 UTC/);

    const json = JSON.parse((await run(['validator', 'jobs', '22222222-failed', '--json', '--config', configFile])).stdout) as {
      job: { history: Array<{ status: string }> };
    };
    expect(json.job.history.map((t) => t.status)).toEqual(['sent', 'accepted', 'job_sent', 'failed']);

    // A job stored without a history says so; an unknown one is a clear error.
    expect((await run(['validator', 'jobs', '11111111', '--config', configFile])).stdout).toContain('No status history');
    const missing = await run(['validator', 'jobs', 'ffffffff', '--config', configFile]);
    expect((missing as { code: number }).code).toBe(1);
    expect(missing.stderr).toMatch(/no job ffffffff is stored for validator/);
  });
});
