import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRunSpec } from '../../contracts/index.js';
import { deadSoon, runSpec } from './__tests__/run-spec.js';
import { ImageNotFoundError, ProcessJobRunner } from './process.js';

const logger = pino({ level: 'silent' });

describe('ProcessJobRunner', () => {
  const runner = new ProcessJobRunner({
    images: { 'local/shell': ['sh', '-c'], 'local/script': ['sh'], 'local/broken': ['/no/such/program'] },
    logger,
  });
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-proc-'));
    for (const d of ['volume', 'output', 'artifacts']) await mkdir(join(dir, d));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const spec = (command: string[], overrides: Partial<JobRunSpec> = {}) =>
    runSpec(dir, 'local/shell', command, { timeoutMs: 10_000, ...overrides });

  it('runs the mapped program with the job command appended, reporting exit code and output', async () => {
    const outcome = await runner.run(spec(['echo "hi $NAME"; echo warn >&2; exit 4'], { env: { NAME: 'job' } }));
    expect(outcome).toMatchObject({ exitCode: 4, timedOut: false, oomKilled: false, stdout: 'hi job\n', stderr: 'warn\n' });
  });

  it('gives the job its directories through HORDE_* variables', async () => {
    await writeFile(join(dir, 'volume', 'in.txt'), 'input');
    const outcome = await runner.run(
      spec(['cat "$HORDE_VOLUME_DIR/in.txt" > "$HORDE_OUTPUT_DIR/out.txt"; echo art > "$HORDE_ARTIFACTS_DIR/a.txt"']),
    );
    expect(outcome.exitCode).toBe(0);
    expect(await readFile(join(dir, 'output', 'out.txt'), 'utf8')).toBe('input');
    expect(await readFile(join(dir, 'artifacts', 'a.txt'), 'utf8')).toBe('art\n');
  });

  it("runs in a temporary directory that is removed afterwards, without the executor's environment", async () => {
    process.env.HORDE_TEST_EXECUTOR_SECRET = 'do-not-leak';
    try {
      const outcome = await runner.run(spec(['pwd; echo "secret=[$HORDE_TEST_EXECUTOR_SECRET]"']));
      const [cwd, secret] = outcome.stdout.trim().split('\n');
      expect(cwd).toMatch(/horde-job-/);
      expect(existsSync(cwd!)).toBe(false);
      expect(secret).toBe('secret=[]');
    } finally {
      delete process.env.HORDE_TEST_EXECUTOR_SECRET;
    }
  });

  it("runs in the caller's scratch directory, as cwd and HOME, and leaves removing it to the caller", async () => {
    const scratchDir = join(dir, 'scratch');
    await mkdir(scratchDir);
    const outcome = await runner.run(spec(['pwd; echo "$HOME"; echo kept > left.txt'], { scratchDir }));
    expect(outcome.stdout).toBe(`${scratchDir}\n${scratchDir}\n`);
    expect(await readFile(join(scratchDir, 'left.txt'), 'utf8')).toBe('kept\n');
  });

  it('standbyShell: the first job runs in the shell started at construction, as it would when spawned', async () => {
    const warmed = new ProcessJobRunner({ images: { 'local/shell': ['sh', '-c'] }, logger, standbyShell: true });
    const outcome = await warmed.run(spec(['echo first; echo err >&2; exit 3']));
    expect(outcome).toMatchObject({ exitCode: 3, timedOut: false, stdout: 'first\n', stderr: 'err\n' });
  });

  it('passes raw_script as a file when the job has no command', async () => {
    const outcome = await runner.run(spec([], { image: 'local/script', rawScript: 'echo "script at $HORDE_SCRIPT_PATH"' }));
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toMatch(/^script at .*horde-job-.*\/script\.py\n$/);
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = join(dir, 'child.pid');
    const started = Date.now();
    const outcome = await runner.run(spec([`sleep 60 & echo $! > ${pidFile}; echo started; wait`], { timeoutMs: 500 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcome).toMatchObject({ exitCode: null, timedOut: true, stdout: 'started\n' });
    const childPid = Number(await readFile(pidFile, 'utf8'));
    expect(await deadSoon(childPid)).toBe(true);
  });

  it('kills processes the job left behind when it exits', async () => {
    const pidFile = join(dir, 'bg.pid');
    const started = Date.now();
    const outcome = await runner.run(spec([`sleep 60 & echo $! > ${pidFile}; exit 0`]));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcome.exitCode).toBe(0);
    expect(await deadSoon(Number(await readFile(pidFile, 'utf8')))).toBe(true);
  });

  it('kills the job when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const outcome = await runner.run(spec(['sleep 60'], { signal: controller.signal }));
    expect(outcome).toMatchObject({ exitCode: null, timedOut: false });
  });

  it('rejects images it has no mapping for, and mappings to missing programs', async () => {
    await runner.prepare('local/shell');
    const unknown = await runner.prepare('python:3.11').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ImageNotFoundError);
    expect(unknown).toMatchObject({ code: 'HORDE_IMAGE_NOT_FOUND' });
    expect((unknown as Error).message).toMatch(/no program for image "python:3.11".*mapped now: local\/shell/);
    await expect(runner.run(spec(['true'], { image: 'python:3.11' }))).rejects.toBeInstanceOf(ImageNotFoundError);

    await expect(runner.prepare('local/broken')).rejects.toThrow(/not an executable/);
    const outcome = await runner.run(spec([], { image: 'local/broken' }));
    expect(outcome.exitCode).toBe(127);
    expect(outcome.stderr).toMatch(/no\/such\/program/);
  });
});
