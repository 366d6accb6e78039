/**
 * `horde miner --config F` as an operator runs it: a config file, `horde chain init` / `register`
 * for the local chain, then the miner process (which loads the default executor manager plugin)
 * serves a validator's job with the process runner, and stops cleanly on SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { requireBuiltCli } from '../support/miner-harness.js';

/** The default local manager's class (ComputeHorde's DEFAULT_EXECUTOR_CLASS). */
const TEST_CLASS = 'spin_up-4min.gpu-24gb';
import { TestValidator } from '../support/test-validator.js';

const HORDE = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('horde miner --config', () => {
  let dir: string;
  let port: number;
  let miner: ChildProcess;
  let output = '';
  let validator: Hotkey;
  let minerHotkey: Hotkey;

  const horde = (...args: string[]) => {
    const result = spawnSync(process.execPath, [HORDE, ...args, '--config', join(dir, 'horde.config.yaml')], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`horde ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  };

  beforeAll(async () => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'horde-miner-cli-'));
    port = await freePort();
    [validator, minerHotkey] = await Promise.all([loadHotkey({ uri: '//Bob' }), loadHotkey({ uri: '//Alice' })]);
    writeFileSync(
      join(dir, 'horde.config.yaml'),
      [
        'hotkey: //Alice',
        'chain: { network: local, netuid: 12, local: { blockTimeMs: 1000 } }',
        `miner: { host: 127.0.0.1, port: ${port}, manifestCommitIntervalSeconds: 0 }`,
        "executor: { runner: process, machineSpecs: false, processImages: { 'example/job:1': ['env'] } }",
        // No executor manager plugin: the miner falls back to @horde/executor-manager-local.
        'plugins: []',
        'log: { level: info, pretty: false }',
      ].join('\n'),
    );
    horde('chain', 'init');
    horde('chain', 'register', '--hotkey', '//Alice');
    horde('chain', 'register', '--hotkey', '//Bob', '--stake', '5000', '--validator-permit');

    miner = spawn(process.execPath, [HORDE, 'miner', '--config', join(dir, 'horde.config.yaml')], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    miner.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    miner.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (miner.exitCode !== null || Date.now() > deadline) throw new Error(`the miner did not come up:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 40_000);

  afterAll(() => {
    if (miner && miner.exitCode === null) miner.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a job with the default executor manager and stops cleanly on SIGTERM', async () => {
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
      hotkeys: string[];
      executors: Record<string, unknown>;
    };
    expect(health.hotkeys).toEqual([minerHotkey.ss58]);
    expect(health.executors).toEqual({ [TEST_CLASS]: { capacity: 1, used: 0, draining: 0 } });

    const client = await TestValidator.connect({ url: `http://127.0.0.1:${port}`, validator, minerHotkey: minerHotkey.ss58 });
    expect((await client.expect('V0ExecutorManifestRequest')).manifest).toEqual({ [TEST_CLASS]: 1 });
    const timing = {
      allowed_leeway: 5,
      download_time_limit: 10,
      execution_time_limit: 10,
      upload_time_limit: 10,
      streaming_start_time_limit: 5,
    };
    const { jobUuid } = await client.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: 'example/job:1',
      executor_timing: timing,
    });
    await client.expect('V0AcceptJobRequest', jobUuid);
    await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await client.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: 'example/job:1',
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'echo from the cli miner'],
      env: {},
    });
    await client.expect('V0VolumesReadyRequest', jobUuid);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 20_000);
    expect((await client.expect('V0JobFinishedRequest', jobUuid, 20_000)).docker_process_stdout).toBe('from the cli miner\n');
    await client.close();

    // One JSON line per event, with the job uuid as a field.
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      lines.some((l) => l.msg === 'job accepted; executor starting' && l.jobUuid === jobUuid && l.validatorHotkey === validator.ss58),
    ).toBe(true);

    miner.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => miner.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(output).toContain('miner stopped');
  }, 60_000);
});
