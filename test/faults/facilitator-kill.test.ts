/**
 * kill -9 of the facilitator (#12 fault suite): a job it answered 201 for is still there after the
 * restart, with its status; the client's login token still works (the secret is in the store), and
 * a replay of the accepted request is still refused (replay protection survives the restart).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHotkey } from '../../core/src/keys/index.js';
import { signJobCreation, signatureToHeaders } from '../../core/src/protocol/sdk-signature.js';
import { jobBody } from '../../core/src/facilitator/__tests__/harness.js';
import { requireBuiltCli } from '../support/miner-harness.js';

const HORDE = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));

describe('kill -9 of the facilitator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-fault-facilitator-'));
  const config = join(dir, 'horde.config.yaml');
  let child: ChildProcess | null = null;

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const horde = (...args: string[]) => {
    const result = spawnSync(process.execPath, [HORDE, ...args, '--config', config], { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`horde ${args.join(' ')} failed: ${result.stderr}`);
  };

  /** Starts the facilitator and resolves with its URL from the "facilitator listening" line. */
  function start(): Promise<string> {
    const proc = spawn(process.execPath, [HORDE, 'facilitator', '--config', config], { cwd: dir });
    child = proc;
    let output = '';
    proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise<string>((resolve, reject) => {
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
  }

  it('keeps every job it accepted, and the replay protection, across a kill -9', async () => {
    requireBuiltCli();
    const [client, validator] = await Promise.all([loadHotkey({ uri: '//FaultClient' }), loadHotkey({ uri: '//FaultValidator' })]);
    writeFileSync(
      config,
      [
        'chain: { network: local, netuid: 12, local: { blockTimeMs: 1000 } }',
        "facilitator: { host: 127.0.0.1, port: 0, hotkeyWhitelist: ['*'] }",
        'plugins: []',
        'log: { level: info, pretty: false }',
      ].join('\n'),
    );
    horde('chain', 'init');
    horde('chain', 'register', '--hotkey', '//FaultValidator', '--stake', '5000', '--validator-permit');
    let url = await start();

    const { nonce } = (await (await fetch(`${url}/api/v1/auth/nonce`)).json()) as { nonce: string };
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hotkey: client.ss58, signature: client.sign(nonce), nonce }),
    });
    const { token } = (await login.json()) as { token: string };
    const body = jobBody(validator.ss58);
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...signatureToHeaders(signJobCreation(client, body).signature),
    };
    const created = await fetch(`${url}/api/v1/job-docker/`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(created.status).toBe(201);
    const { uuid } = (await created.json()) as { uuid: string };

    const proc = child!;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    url = await start();

    const job = await fetch(`${url}/api/v1/jobs/${uuid}/`, { headers: { authorization: `Bearer ${token}` } });
    expect(job.status).toBe(200);
    expect(((await job.json()) as { uuid: string; status: string }).uuid).toBe(uuid);
    const replay = await fetch(`${url}/api/v1/job-docker/`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(replay.status).toBe(409);
  }, 120_000);
});
