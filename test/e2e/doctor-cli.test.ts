/**
 * `horde doctor` against a real miner process on a LocalChain, the way an operator meets the usual
 * mistakes: before the miner runs (nothing answers, hotkey not registered), then with a miner that
 * listens on loopback only while it announces the machine's public address. Runs core/dist.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { loadHotkey } from '../../core/src/keys/index.js';
import { openStore } from '../../core/src/store/index.js';
import { freePorts } from '../../core/src/devnet/ports.js';
import { CLI } from '../support/devnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';

const NETUID = 12;
type Line = { check: string; status: string; found: string; fix?: string };

async function doctor(configFile: string): Promise<{ code: number; lines: Line[]; text: string }> {
  const json = await promisify(execFile)('node', [CLI, 'doctor', '--json', '--config', configFile]).catch(
    (error: { stdout: string; code: number }) => error,
  );
  const text = await promisify(execFile)('node', [CLI, 'doctor', '--config', configFile]).catch(
    (error: { stdout: string; code: number }) => error,
  );
  return { code: (json as { code?: number }).code ?? 0, lines: JSON.parse(json.stdout) as Line[], text: text.stdout };
}

const line = (lines: Line[], check: string) => lines.filter((l) => l.check === check);

describe('horde doctor', () => {
  let dir: string;
  let configFile: string;
  let port: number;
  let publicIp: string;
  let miner: ChildProcess | null = null;

  beforeAll(async () => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'horde-doctor-'));
    [port] = (await freePorts(1)) as [number];
    // An address of this machine that is not loopback: where a miner announces itself.
    publicIp =
      Object.values(networkInterfaces())
        .flat()
        .find((a) => a?.family === 'IPv4' && !a.internal)?.address ?? '';
    expect(publicIp, 'this machine needs a non-loopback IPv4 address for the test').not.toBe('');
    const chainFile = join(dir, 'chain.sqlite');
    const chainStore = await openStore({ client: 'sqlite', filename: chainFile });
    await LocalChain.init(chainStore, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
    await chainStore.close();
    configFile = join(dir, 'miner.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        hotkey: '//DoctorMiner',
        dataDir: join(dir, 'data'),
        chain: { network: 'local', netuid: NETUID, local: { store: { client: 'sqlite', filename: chainFile } } },
        miner: { host: '127.0.0.1', port, announce: { ip: publicIp }, manifestCommitIntervalSeconds: 0 },
        executor: { runner: 'docker' },
        log: { level: 'warn', file: join(dir, 'miner.log') },
        plugins: [
          '@horde/plugin-hardware-classes',
          { name: '@horde/executor-manager-local', config: { executorClass: 'always_on.test', executors: 1 } },
        ],
      }),
    );
  });
  afterAll(async () => {
    if (miner && miner.exitCode === null) {
      miner.kill('SIGTERM');
      await new Promise((resolve) => miner!.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what is wrong, one line per check with the fix: unregistered, nothing answering, then only loopback answering', async () => {
    const before = await doctor(configFile);
    expect(before.code).toBe(1);
    expect(line(before.lines, 'config')[0]).toMatchObject({ status: 'ok' });
    expect(line(before.lines, 'plugins')[0]).toMatchObject({ status: 'ok' });
    expect(line(before.lines, 'executors')[0]).toMatchObject({ status: 'ok', found: 'LocalExecutorManager declares always_on.test ×1' });
    expect(line(before.lines, 'docker')[0]).toMatchObject({ status: 'ok', found: expect.stringMatching(/^engine \d/) });
    expect(line(before.lines, 'nvidia')[0]).toMatchObject({ status: 'skip' });
    expect(line(before.lines, 'disk').length).toBeGreaterThanOrEqual(2);
    expect(line(before.lines, 'reachable')[0]).toMatchObject({
      status: 'fail',
      found: expect.stringContaining(`nothing answers on ${publicIp}:${port}`),
      fix: expect.stringContaining('start the miner'),
    });
    expect(line(before.lines, 'registered')[0]).toMatchObject({
      status: 'fail',
      found: expect.stringContaining(`is not registered on netuid ${NETUID}`),
      fix: expect.stringContaining('btcli subnet register'),
    });
    expect(line(before.lines, 'clock')[0]).toMatchObject({ status: 'skip' });
    // The plain form: one line per check, the fix on the same line.
    const failLines = before.text.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(failLines.length).toBe(before.lines.filter((l) => l.status === 'fail').length);
    expect(failLines.every((l) => l.includes('→ fix: '))).toBe(true);
    expect(before.text).toMatch(/\d+ checks? failed\.\n$/);

    // Register the hotkey, start the miner on loopback only: it announces the public address.
    const hotkey = await loadHotkey({ uri: '//DoctorMiner' });
    const chainStore = await openStore({ client: 'sqlite', filename: join(dir, 'chain.sqlite') });
    const chain = await LocalChain.open({ store: chainStore, hotkey: hotkey.ss58, netuid: NETUID });
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey.ss58, coldkey: hotkey.ss58 });
    await chain.close();
    await chainStore.close();
    miner = spawn(process.execPath, [CLI, 'miner', '--config', configFile], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    while (
      !(await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error('the miner did not come up');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const after = await doctor(configFile);
    expect(line(after.lines, 'registered')[0]).toMatchObject({ status: 'ok', found: expect.stringContaining(`axon ${publicIp}:${port}`) });
    expect(line(after.lines, 'reachable')[0]).toMatchObject({
      status: 'fail',
      found: expect.stringContaining(`only loopback answers: 127.0.0.1:${port} does, the announced ${publicIp}:${port} does not`),
      fix: expect.stringContaining('set miner.host to 0.0.0.0 (it is 127.0.0.1)'),
    });
    expect(after.code).toBe(1);
  }, 120_000);
});
