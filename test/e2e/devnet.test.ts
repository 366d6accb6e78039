/**
 * `horde devnet` end to end, through the built CLI, as a newcomer runs it: real processes (a
 * validator, its trusted miner, miners, `horde executor` agents running the hash-crack job), a
 * LocalChain in SQLite, weights committed and revealed. Checks the JSON summary against the chain,
 * that bad flags are refused before anything starts, and that no process outlives the devnet —
 * after a normal run, after Ctrl-C, and after one of its processes dies.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CLI,
  devnetProcesses,
  exitOf,
  horde,
  readSummary,
  ROOT,
  SHORT_DEVNET as SHORT,
  tempDirs,
  waitForOutput,
} from '../support/devnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';

const dirs = tempDirs();
const tempDir = (prefix: string) => dirs.make(prefix);
afterAll(() => dirs.cleanup());

describe('horde devnet', () => {
  it('runs one cycle with a cheater and writes a summary that matches the LocalChain', async () => {
    requireBuiltCli();
    const dataDir = join(tempDir('horde-devnet-e2e-'), 'run');
    const jsonFile = join(dataDir, '..', 'summary.json');
    const run = await horde(
      [
        'devnet',
        '--cycles',
        '1',
        '--miners',
        '3',
        '--executors',
        '2',
        '--cheaters',
        '1',
        '--json',
        jsonFile,
        '--data-dir',
        dataDir,
        ...SHORT,
      ],
      90_000,
    );
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/MINER\s+BEHAVIOUR\s+UID\s+HOTKEY/);
    expect(run.stdout).toContain(join(dataDir, 'logs', 'validator.log'));

    const summary = readSummary(jsonFile);
    expect(summary.cycles).toBe(1);
    expect(summary.dataDir).toBe(dataDir);
    expect(summary.miners.map((m) => [m.name, m.behaviour])).toEqual([
      ['miner-1', 'honest'],
      ['miner-2', 'honest'],
      ['miner-3', 'cheater'],
    ]);
    const honest = summary.miners.filter((m) => m.behaviour === 'honest');
    const cheater = summary.miners.find((m) => m.behaviour === 'cheater')!;
    // Each miner got one job per executor; the honest ones answered right, the cheater wrongly.
    for (const m of honest) {
      expect(m.jobs).toMatchObject({ sent: 2, completed: 2, correct: 2, wrong: 0, failed: 0 });
      expect(m.points['synthetic-jobs']).toBe(2);
      expect(m.weight).toBeCloseTo(0.5, 9);
    }
    expect(cheater.jobs).toMatchObject({ sent: 2, completed: 2, correct: 0, wrong: 2 });
    expect(cheater.points['synthetic-jobs']).toBe(0);
    expect(cheater.weight).toBe(0);
    // The revealed weights on the LocalChain are the validator's, up to u16 rounding.
    expect(Object.keys(summary.chainWeights).sort()).toEqual(summary.miners.map((m) => m.hotkey).sort());
    for (const m of summary.miners) {
      expect(summary.chainWeights[m.hotkey]).toBe(m.chainWeight);
      expect(Math.abs(m.chainWeight - m.weight)).toBeLessThan(1e-4);
    }
    expect(summary.chainWeights[cheater.hotkey]).toBe(0);
    // A log file per process with its pino JSON lines (anything the process printed lands there too).
    expect(Object.keys(summary.logs).sort()).toEqual(['miner-1', 'miner-2', 'miner-3', 'trusted-miner', 'validator']);
    for (const file of Object.values(summary.logs)) {
      expect(statSync(file).size).toBeGreaterThan(0);
      const entries = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.every((entry) => typeof entry.level === 'number' && typeof entry.msg === 'string')).toBe(true);
    }
    expect(readFileSync(summary.logs['validator']!, 'utf8')).toContain('"msg":"cycle scored"');
    expect(existsSync(join(dataDir, 'config', 'validator.json'))).toBe(true);
    expect(devnetProcesses(dataDir)).toEqual([]);
  }, 100_000);

  it('pays a rotate-main dancer about +30 %, a farmer (claims to dance, moves nothing) no bonus, a cheater nothing', async () => {
    requireBuiltCli();
    const dataDir = join(tempDir('horde-devnet-farmer-'), 'run');
    const jsonFile = join(dataDir, '..', 'summary.json');
    const run = await horde(
      [
        'devnet',
        '--cycles',
        '2',
        '--miners',
        '4',
        '--executors',
        '2',
        '--cheaters',
        '1',
        '--dancers',
        '1',
        '--farmers',
        '1',
        '--json',
        jsonFile,
        '--data-dir',
        dataDir,
        '--block-time-ms',
        '100',
        '--no-progress',
      ],
      150_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = readSummary(jsonFile);
    const byBehaviour = (behaviour: string) => summary.miners.filter((m) => m.behaviour === behaviour);
    const [honest] = byBehaviour('honest');
    const [cheater] = byBehaviour('cheater');
    const [farmer] = byBehaviour('farmer');
    const dancer = byBehaviour('dancer');
    expect(dancer).toHaveLength(2);
    // The default 15 s cycles: room for a batch of five miners on a loaded machine. The last cycle
    // follows one in which the validator saw where every executor was.
    const last = (m: { cycleWeights: number[] }) => m.cycleWeights.at(-1)!;
    expect(last(cheater!)).toBe(0);
    expect(last(honest!)).toBeGreaterThan(0);
    expect(last(farmer!) / last(honest!)).toBeCloseTo(1, 6);
    expect(farmer!.points['dancing-bonus'] ?? 0).toBe(0);
    expect((last(dancer[0]!) + last(dancer[1]!)) / last(honest!)).toBeCloseTo(1.3, 6);
  }, 160_000);
  it('with --commit-reveal timelock, commits drand-timelocked weights that the LocalChain reveals; the cheater still gets 0', async () => {
    requireBuiltCli();
    const dataDir = join(tempDir('horde-devnet-tlock-'), 'run');
    const jsonFile = join(dataDir, '..', 'summary.json');
    const run = await horde(
      [
        'devnet',
        '--cycles',
        '1',
        '--miners',
        '2',
        '--cheaters',
        '1',
        '--commit-reveal',
        'timelock',
        '--json',
        jsonFile,
        '--data-dir',
        dataDir,
        ...SHORT,
      ],
      90_000,
    );
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/timelocked weights committed at block \d+ revealed by the chain at block \d+ \(round \d+\)/);
    const summary = readSummary(jsonFile);
    const cheater = summary.miners.find((m) => m.behaviour === 'cheater')!;
    const honest = summary.miners.find((m) => m.behaviour === 'honest')!;
    expect(summary.chainWeights[cheater.hotkey]).toBe(0);
    expect(Math.abs(summary.chainWeights[honest.hotkey]! - 1)).toBeLessThan(1e-4);
    const log = readFileSync(summary.logs['validator']!, 'utf8');
    expect(log).toContain('"mode":"timelocked_v4"');
    // The validator never sent a reveal: the chain did it.
    expect(log).not.toContain('"msg":"weights revealed"');
    expect(devnetProcesses(dataDir)).toEqual([]);
  }, 100_000);

  it('refuses bad flags with a clear message before anything starts', async () => {
    const dataDir = join(tempDir('horde-devnet-flags-'), 'never');
    const cases: Array<[string[], RegExp]> = [
      [['--miners', '3', '--cheaters', '4'], /--cheaters \(4\) is more than --miners \(3\)/],
      [['--miners=-1'], /--miners must be a whole number from 1 to 64, got "-1"/],
      [['--miners', '3', '--cheaters', '2', '--dancers', '2'], /--cheaters \(2\) plus --dancers \(2\) is more than --miners \(3\)/],
      [['--cycle-blocks', '20'], /it must last at least 8000 ms/],
      [['--postgres', 'mysql://x'], /--postgres must be a postgres:\/\/ URL/],
      [['--commit-reveal', 'crv3'], /--commit-reveal must be hash or timelock/],
    ];
    for (const [flags, message] of cases) {
      const run = await horde(['devnet', '--data-dir', dataDir, ...flags], 20_000);
      expect(run.code, flags.join(' ')).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
      expect(existsSync(dataDir)).toBe(false);
    }
    const help = await horde(['devnet', '--help'], 20_000);
    for (const flag of [
      '--miners',
      '--executors',
      '--cycles',
      '--cheaters',
      '--dancers',
      '--block-time-ms',
      '--cycle-blocks',
      '--data-dir',
      '--postgres',
      '--docker',
      '--json',
      '--no-progress',
      '--plugin',
      '--commit-reveal',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  }, 60_000);

  it('stops every process on Ctrl-C and exits with 130', async () => {
    requireBuiltCli();
    const dataDir = join(tempDir('horde-devnet-sigint-'), 'run');
    const child = spawn(process.execPath, [CLI, 'devnet', '--miners', '2', '--data-dir', dataDir, ...SHORT], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = exitOf(child);
    await waitForOutput(child, /batch of cycle \d+ started/, 60_000);
    expect(devnetProcesses(dataDir).length).toBeGreaterThanOrEqual(4); // validator, trusted miner, 2 miners (+ executors)
    child.kill('SIGINT');
    const { code, stderr } = await exited;
    expect(code).toBe(130);
    expect(stderr).toContain('every process has exited');
    expect(devnetProcesses(dataDir)).toEqual([]);
  }, 90_000);

  it('leaves nothing behind even when the devnet itself is killed with SIGKILL', async () => {
    requireBuiltCli();
    const dataDir = join(tempDir('horde-devnet-kill-'), 'run');
    const child = spawn(process.execPath, [CLI, 'devnet', '--miners', '2', '--data-dir', dataDir, ...SHORT], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = exitOf(child);
    await waitForOutput(child, /batch of cycle \d+ started/, 60_000);
    expect(devnetProcesses(dataDir).length).toBeGreaterThanOrEqual(4);
    child.kill('SIGKILL');
    await exited;
    // Each process notices its IPC channel to the devnet closing and shuts down on its own.
    const deadline = Date.now() + 15_000;
    while (devnetProcesses(dataDir).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(devnetProcesses(dataDir)).toEqual([]);
  }, 90_000);

  it('stops everything and names the process and its log when one of them dies', async () => {
    requireBuiltCli();
    const dataDir = join(tempDir('horde-devnet-crash-'), 'run');
    const child = spawn(process.execPath, [CLI, 'devnet', '--miners', '2', '--data-dir', dataDir, ...SHORT], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = exitOf(child);
    await waitForOutput(child, /validator \S+ is up/, 60_000);
    const miner = devnetProcesses(dataDir).find((p) => p.cmdline.includes(join(dataDir, 'config', 'miner-2.json')));
    expect(miner).toBeDefined();
    process.kill(miner!.pid, 'SIGKILL');
    const { code, stderr } = await exited;
    expect(code).toBe(1);
    expect(stderr).toContain(`miner-2 exited unexpectedly (killed by a signal); see its log: ${join(dataDir, 'logs', 'miner-2.log')}`);
    expect(devnetProcesses(dataDir)).toEqual([]);
  }, 90_000);
});
