/**
 * `horde facilitator --config F` as an operator runs it: `horde chain init` for the local chain,
 * then the facilitator process serves its port until SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { requireBuiltCli } from '../support/miner-harness.js';

const HORDE = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'horde-facilitator-cli-'));
let child: ChildProcess | null = null;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('serves the facilitator from a config file and stops cleanly on SIGTERM', async () => {
  requireBuiltCli();
  const config = join(dir, 'horde.config.yaml');
  writeFileSync(
    config,
    [
      'chain: { network: local, netuid: 12, local: { blockTimeMs: 1000 } }',
      "facilitator: { host: 127.0.0.1, port: 0, hotkeyWhitelist: ['*'] }",
      'plugins: []',
      'log: { level: info, pretty: false }',
    ].join('\n'),
  );
  const init = spawnSync(process.execPath, [HORDE, 'chain', 'init', '--config', config], { cwd: dir, encoding: 'utf8' });
  expect(init.status, init.stderr).toBe(0);

  const proc = spawn(process.execPath, [HORDE, 'facilitator', '--config', config], { cwd: dir });
  child = proc;
  let output = '';
  proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "facilitator listening" line:\n${output}`)), 20_000);
    const check = () => {
      const line = output.split('\n').find((l) => l.includes('"facilitator listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      } else if (proc.exitCode !== null) {
        clearTimeout(timer);
        reject(new Error(`facilitator exited: ${output}`));
      } else setTimeout(check, 50);
    };
    check();
  });
  expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', validators: [] });
  expect(((await (await fetch(`${url}/api/v1/auth/nonce`)).json()) as { nonce: string }).nonce).toMatch(/^[0-9a-f]{48}$/);

  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(output).toContain('facilitator stopping');
  child = null;
}, 40_000);
