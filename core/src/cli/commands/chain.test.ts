import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Like the other CLI tests, these run the built CLI and built modules (`npm test` builds first):
// every step is a separate process, as the devnet's chain owner, validator and miner are.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = join(repo, 'core/bin/horde.js');
const dist = (path: string) => pathToFileURL(join(repo, 'core/dist', path)).href;
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

let dir: string;

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HORDE_')));
  return { ...env, ...extra };
}

function horde(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env: cleanEnv(), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a script in its own node process; resolves with its JSON lines. */
function runProcess(script: string, env: Record<string, string>): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: dir, env: cleanEnv(env) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${script} exited with ${code}: ${err}`));
      else
        resolve(
          out
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as Record<string, unknown>),
        );
    });
  });
}

/** What a horde role process does at start: load the config, open the store and the chain. */
const preamble = `
import { loadConfig, storeOptions } from '${dist('config/index.js')}';
import { openStore } from '${dist('store/index.js')}';
import { loadHotkey } from '${dist('keys/index.js')}';
import { openChain, encodeManifestCommitment } from '${dist('chain/index.js')}';
const config = await loadConfig();
const store = await openStore(storeOptions(config));
const hotkey = await loadHotkey(config.hotkey);
const chain = await openChain(config.chain, hotkey, store);
const netuid = config.chain.netuid;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
`;

const minerScript = `${preamble}
await chain.serveAxon(netuid, { ip: '127.0.0.1', port: 8000, protocol: 4, version: 1 });
await chain.setCommitment(netuid, encodeManifestCommitment({ 'always_on.llm.a6000': 2 }));
say({ kind: 'metagraph', neurons: (await chain.metagraph(netuid)).neurons.map(({ uid, hotkey, coldkey, stake, validatorPermit }) => ({ uid, hotkey, coldkey, stake, validatorPermit })) });
// Wait until the validator's revealed weights show up here, in another process.
for (;;) {
  const weights = await chain.weights(netuid);
  if (weights.size > 0) { say({ kind: 'weights', weights: [...weights] }); break; }
  await sleep(50);
}
await chain.close(); await store.close();
`;

const validatorScript = `${preamble}
say({ kind: 'metagraph', neurons: (await chain.metagraph(netuid)).neurons.map(({ uid, hotkey, coldkey, stake, validatorPermit }) => ({ uid, hotkey, coldkey, stake, validatorPermit })) });
let result;
for (;;) {
  result = await chain.submitWeights(netuid, [{ uid: 1, weight: 1 }]);
  if (result.status !== 'rate_limited') break;
  await sleep(50);
}
say({ kind: 'submitted', result });
for (;;) {
  const reveals = await chain.revealPendingWeights(netuid);
  if (reveals.some((r) => r.status === 'revealed')) { say({ kind: 'revealed', reveals }); break; }
  if (reveals.some((r) => r.status === 'expired' || r.status === 'failed')) throw new Error(JSON.stringify(reveals));
  await sleep(50);
}
// Every miner has an axon before the validator is done (the miner serves it first thing).
for (;;) {
  const graph = await chain.metagraph(netuid);
  if (graph.neurons[1].axon) { say({ kind: 'axon', axon: graph.neurons[1].axon, commitment: await chain.commitment(netuid, graph.neurons[1].hotkey) }); break; }
  await sleep(50);
}
await chain.close(); await store.close();
`;

describe('horde chain (LocalChain shared by several processes)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'horde-chain-cli-'));
    writeFileSync(
      join(dir, 'horde.config.yaml'),
      [
        'hotkey: //Alice',
        'plugins: []',
        'store:',
        '  filename: ./state/horde.sqlite',
        'chain:',
        '  network: local',
        '  netuid: 1',
        '  local:',
        '    blockTimeMs: 100',
        '    tempo: 4',
        '    weightsRateLimit: 2',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'miner.mjs'), minerScript);
    writeFileSync(join(dir, 'validator.mjs'), validatorScript);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('initialises, registers, stakes, and shows a chain that a validator and a miner process share', async () => {
    expect(horde(['chain', 'init'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('LocalChain created: subnet 1, 100 ms blocks, tempo 4'),
    });
    expect(horde(['chain', 'init']).stderr).toContain('already holds a LocalChain');
    expect(horde(['chain', 'register', '--stake', '1000', '--validator-permit'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`Registered ${ALICE} on subnet 1 as uid 0`),
    });
    expect(horde(['chain', 'register', '--hotkey', '//Bob', '--coldkey', '//Eve'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('as uid 1'),
    });
    expect(horde(['chain', 'stake', '--hotkey', BOB, '--amount', '10'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('10 alpha'),
    });
    expect(horde(['chain', 'register', '--hotkey', 'nonsense']).stderr).toContain('hotkey "nonsense" is not a valid ss58 address');

    const [miner, validator] = await Promise.all([
      runProcess('miner.mjs', { HORDE_HOTKEY__URI: '//Bob' }),
      runProcess('validator.mjs', {}),
    ]);

    // Same metagraph in both processes.
    const minerGraph = miner.find((m) => m['kind'] === 'metagraph');
    const validatorGraph = validator.find((m) => m['kind'] === 'metagraph');
    expect(minerGraph).toEqual(validatorGraph);
    expect(minerGraph?.['neurons']).toMatchObject([
      { uid: 0, hotkey: ALICE, validatorPermit: true, stake: { alpha: 1000 } },
      { uid: 1, hotkey: BOB, validatorPermit: false, stake: { alpha: 10 } },
    ]);

    // The validator committed, then revealed; the miner process saw the revealed weights.
    expect(validator.find((m) => m['kind'] === 'submitted')).toMatchObject({ result: { status: 'committed' } });
    expect(validator.find((m) => m['kind'] === 'revealed')).toMatchObject({ reveals: [{ status: 'revealed' }] });
    expect(miner.find((m) => m['kind'] === 'weights')).toEqual({ kind: 'weights', weights: [[0, [{ uid: 1, weight: 1 }]]] });
    expect(validator.find((m) => m['kind'] === 'axon')).toEqual({
      kind: 'axon',
      axon: { ip: '127.0.0.1', port: 8000, ipType: 4, protocol: 4, version: 1 },
      commitment: '<M:L2>',
    });

    // And `horde chain show` prints them.
    const show = horde(['chain', 'show']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^LocalChain subnet 1 at block \d+ \(epoch \d+; tempo 4, weights rate limit 2, commit-reveal on/);
    expect(show.stdout).toMatch(new RegExp(`1\\s+${BOB}\\s+\\S+\\s+10\\s+no\\s+yes\\s+127\\.0\\.0\\.1:8000`));
    expect(show.stdout).toContain('<M:L2>');
    expect(show.stdout).toMatch(/WEIGHTS\nFROM UID\s+TO UID:WEIGHT\n0\s+1:1\.0000/);
    const json = JSON.parse(horde(['chain', 'show', '--json']).stdout) as {
      weights: Record<string, unknown>;
      neurons: Array<{ commitment: string | null }>;
    };
    expect(json.weights).toEqual({ 0: [{ uid: 1, weight: 1 }] });
    expect(json.neurons[1]!.commitment).toBe('<M:L2>');
  }, 60_000);

  it('refuses to manage a chain that is not the LocalChain', () => {
    // `show` reads any network (chain-show-remote.test.ts); the writing commands are the LocalChain's only.
    const result = spawnSync(process.execPath, [bin, 'chain', 'register', '--hotkey', '//Bob'], {
      cwd: dir,
      env: cleanEnv({ HORDE_CHAIN__NETWORK: 'finney' }),
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('horde chain manages the embedded LocalChain, but chain.network is "finney"');
  });
});
