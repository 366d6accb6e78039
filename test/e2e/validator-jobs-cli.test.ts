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
import type { JobRecord } from '../../core/src/validator/job-run.js';

// Runs core/dist: `npm run build` first.
const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const run = (args: string[]) => promisify(execFile)('node', [CLI, ...args]).catch((error: { stdout: string; stderr: string; code: number }) => error);

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
        job('22222222-failed', { status: 'failed', details: 'job failed', failure: { source: 'executor', reason: 'nonzero_return_code', stage: 'execution', message: 'exit 1' } }),
        job('33333333-horde', { status: 'horde_failed', cycle: 8, details: 'timeout', failure: { source: 'validator', reason: 'timeout', stage: 'waiting for the result', message: 'no job result in 6 s' } }),
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
    expect(stdout).toMatch(/22222222\s+5Failing…XXXXXXXX\s+always_on\.test\s+synthetic\s+failed\s+executor\s+nonzero_return_code\s+execution\s+exit 1/);
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
});
