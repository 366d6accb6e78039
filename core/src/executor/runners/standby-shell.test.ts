import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRunSpec } from '../../contracts/index.js';
import { deadSoon, runSpec } from './__tests__/run-spec.js';
import { ProcessJobRunner } from './process.js';
import { StandbyShell, standbyScript } from './standby-shell.js';

const logger = pino({ level: 'silent' });
const run = promisify(execFile);

// A job's words as they reach it: each argument, the whole environment, its cwd, argv[0], stdin.
const REPORT = [
  'for a in "$@"; do printf "arg[%s]\\n" "$a"; done',
  'env | LC_ALL=C sort',
  'printf "cwd[%s]\\n" "$(pwd)"',
  'printf "argv0[%s]\\n" "$(head -z -n 1 /proc/$$/cmdline | tr -d "\\0")"',
  'printf "stdin[%s]\\n" "$(readlink /proc/$$/fd/0)"',
].join('\n');
const TRICKY = ["it's", '$(touch /tmp/horde-standby-pwned)', '`id`', 'a b\tc', 'line\nbreak', '; exit 9', '"', '\\', '*', ''];

describe('StandbyShell: the job process started ahead', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-standby-'));
    for (const d of ['volume', 'output', 'artifacts', 'scratch']) await mkdir(join(dir, d));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const spec = (command: string[], overrides: Partial<JobRunSpec> = {}) =>
    runSpec(dir, 'local/report', command, { scratchDir: join(dir, 'scratch'), timeoutMs: 10_000, ...overrides });

  const images = { 'local/report': ['sh', '-c', REPORT, 'sh'], 'local/shell': ['sh', '-c'], 'local/env': ['env'] };
  const runners = () => ({
    standby: new ProcessJobRunner({ images, logger, standbyShell: true }),
    spawned: new ProcessJobRunner({ images, logger }),
  });

  it('gives the job the same argv, environment, cwd, argv[0] and stdin as a spawned one, whatever the words hold', async () => {
    const env = {
      PLAIN: 'value',
      QUOTED: 'it\'s "quoted" $HOME `id` $(id)',
      MULTI: 'one\ntwo',
      EMPTY: '',
      // Names the shell itself keeps: the job still gets the validator's values, and no others.
      IFS: 'x',
      OPTIND: '9',
      PPID: '3',
      LINENO: '5',
      _: 'underscore',
      PS1: '$ ',
    };
    const { standby, spawned } = runners();
    const viaStandby = await standby.run(spec(TRICKY, { env }));
    const viaSpawn = await spawned.run(spec(TRICKY, { env }));
    expect(viaStandby.exitCode).toBe(0);
    expect(viaStandby.stderr).toBe('');
    expect(viaStandby.stdout).toBe(viaSpawn.stdout);
    expect(viaStandby.stdout).toContain(`arg[$(touch /tmp/horde-standby-pwned)]`);
    expect(viaStandby.stdout).toContain('arg[line\nbreak]');
    // The environment exactly as the program gets it (no shell between: a shell resets IFS, PPID,
    // sets PWD…).
    const environ = async (runner: ProcessJobRunner) => (await runner.run(spec([], { image: 'local/env', env }))).stdout.split('\n').sort();
    const exact = await environ(runners().standby);
    expect(exact).toEqual(await environ(spawned));
    expect(exact).toEqual(
      expect.arrayContaining(['IFS=x', 'OPTIND=9', 'PPID=3', 'LINENO=5', '_=underscore', 'PS1=$ ', 'EMPTY=', 'MULTI=one', 'two']),
    );
    expect(exact.filter((line) => /^(PWD|OLDPWD)=/.test(line))).toEqual([]);
    expect(viaStandby.stdout).toContain(`cwd[${join(dir, 'scratch')}]`);
    expect(viaStandby.stdout).toContain('argv0[sh]');
    expect(viaStandby.stdout).toContain('stdin[/dev/null]');
  });

  it("looks the program up on the job's PATH, as spawn does, and reports one it cannot find or run as 127 / 126", async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'own-tool'), '#!/bin/sh\necho "own tool $1"\n');
    await chmod(join(bin, 'own-tool'), 0o755);
    await writeFile(join(bin, 'not-runnable'), 'plain text');
    const pathImages = { 'local/own': ['own-tool'], 'local/missing': ['no-such-tool-anywhere'], 'local/denied': ['not-runnable'] };
    for (const standbyShell of [true, false]) {
      const make = () => new ProcessJobRunner({ images: pathImages, logger, standbyShell });
      const env = { PATH: `${bin}:/usr/bin:/bin` };
      expect(await make().run(spec(['x'], { image: 'local/own', env }))).toMatchObject({ exitCode: 0, stdout: 'own tool x\n' });
      const missing = await make().run(spec([], { image: 'local/missing', env }));
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toContain('no-such-tool-anywhere');
      expect((await make().run(spec([], { image: 'local/denied', env }))).exitCode).toBe(126);
    }
  });

  it('kills the whole process group on timeout, as a spawned job', async () => {
    const { standby } = runners();
    const pidFile = join(dir, 'bg.pid');
    const outcome = await standby.run(
      spec([`sleep 60 & echo $! > ${pidFile}; echo started; wait`], { image: 'local/shell', timeoutMs: 500 }),
    );
    expect(outcome).toMatchObject({ exitCode: null, timedOut: true, stdout: 'started\n' });
    expect(await deadSoon(Number(await readFile(pidFile, 'utf8')))).toBe(true);
  });

  it('serves the first job only; later jobs, and a job whose env names are not shell names, are spawned', async () => {
    const { standby } = runners();
    const waiting = (standby as unknown as { standby: StandbyShell }).standby.pid;
    const first = await standby.run(spec(['echo $$'], { image: 'local/shell' }));
    const second = await standby.run(spec(['echo $$'], { image: 'local/shell' }));
    expect(first.stdout).toBe(`${waiting}\n`); // the waiting shell became the job
    expect(second.stdout).not.toBe(first.stdout);

    const shell = StandbyShell.start(logger)!;
    const pid = shell.pid!;
    expect(shell.take('env', [], dir, { 'NOT-A-SHELL-NAME': '1' })).toBeNull();
    expect(await deadSoon(pid)).toBe(true); // told to go: its input closed
    expect(standbyScript('env', [], dir, { '9LIVES': '1' })).toBeNull();
    expect(standbyScript('env', ['a\0b'], dir, {})).toBeNull();
    expect(standbyScript('-p', [], dir, {})).toBeNull(); // would be an option of exec
    const odd = await new ProcessJobRunner({ images, logger, standbyShell: true }).run(
      spec([], { image: 'local/env', env: { 'NOT-A-SHELL-NAME': 'kept' } }),
    );
    expect(odd.stdout).toContain('NOT-A-SHELL-NAME=kept\n');
  });

  it('spawns the job when the waiting shell is gone (killed before the job came)', async () => {
    const runner = new ProcessJobRunner({ images, logger, standbyShell: true });
    const pid = (runner as unknown as { standby: StandbyShell }).standby.pid!;
    process.kill(pid, 'SIGKILL');
    expect(await deadSoon(pid)).toBe(true);
    const outcome = await runner.run(spec(['echo ran; exit 3'], { image: 'local/shell' }));
    expect(outcome).toMatchObject({ exitCode: 3, stdout: 'ran\n' });
  });

  it('does not keep an agent that never runs a job alive, and the shell exits with it', async () => {
    const module = fileURLToPath(new URL('../../../dist/executor/runners/standby-shell.js', import.meta.url));
    const script = `
      const { StandbyShell } = await import(${JSON.stringify(module)});
      const shell = StandbyShell.start({ debug() {} });
      process.stdout.write(String(shell.pid));`;
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await deadSoon(Number(stdout))).toBe(true);
  });
});
