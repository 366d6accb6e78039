import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { u8aToHex } from '@polkadot/util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { FakeSubtensor } from '../../chain/subtensor/__tests__/fake-subtensor.js';
import { loadHotkey, type Hotkey } from '../../keys/index.js';

// The built CLI in its own process, talking websocket JSON-RPC to a node with subtensor's metadata.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = join(repo, 'core/bin/horde.js');
const NETUID = 12;

function horde(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HORDE_')));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('horde chain show --network (any subtensor node)', () => {
  let node: FakeSubtensor;
  let dir: string;
  let alice: Hotkey;
  let bob: Hotkey;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([loadHotkey({ uri: '//Alice' }), loadHotkey({ uri: '//Bob' })]);
  });

  beforeEach(async () => {
    node = await FakeSubtensor.start({ startBlock: 100 });
    dir = mkdtempSync(join(tmpdir(), 'horde-show-'));
    node.setStorage('subtensorModule', 'networksAdded', [NETUID], true);
    node.setStorage('subtensorModule', 'subnetworkN', [NETUID], 2);
    node.setStorage('subtensorModule', 'tempo', [NETUID], 360);
    node.setStorage('subtensorModule', 'weightsSetRateLimit', [NETUID], 100);
    node.setStorage('subtensorModule', 'commitRevealWeightsEnabled', [NETUID], true);
    node.setStorage('subtensorModule', 'commitRevealWeightsVersion', [], 4);
    node.setStorage('subtensorModule', 'revealPeriodEpochs', [NETUID], 1);
    node.setStorage('subtensorModule', 'weightsVersionKey', [NETUID], 7);
    node.setStorage('subtensorModule', 'weights', [NETUID, 0], [[1, 65535]]);
    node.setStorage('commitments', 'commitmentOf', [NETUID, bob.ss58], {
      deposit: 0,
      block: 101,
      info: { fields: [{ Raw9: '<M:C4;L2>' }] },
    });
    const metagraph = node.registry.createType('Option<PalletSubtensorRpcInfoMetagraph>', {
      netuid: NETUID,
      block: 100,
      tempo: 360,
      hotkeys: [alice.ss58, bob.ss58],
      coldkeys: [alice.ss58, bob.ss58],
      axons: [
        { block: 10, version: 1, ip: 0, port: 0, ipType: 0, protocol: 0 },
        { block: 20, version: 1, ip: 0x01020304, port: 8091, ipType: 4, protocol: 4 },
      ],
      active: [true, true],
      validatorPermit: [true, false],
      lastUpdate: [95, 3],
      incentives: [0, 65535],
      alphaStake: [1000n * 1_000_000_000n, 0n],
      taoStake: [0n, 0n],
      totalStake: [1000n * 1_000_000_000n, 0n],
    });
    node.setRuntimeApi('SubnetInfoRuntimeApi_get_metagraph', () => u8aToHex(metagraph.toU8a()));
  });

  afterEach(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints metagraph, hyperparameters with the commit-reveal mode, weights and commitments as JSON', async () => {
    const run = await horde(['chain', 'show', '--network', node.url, '--netuid', String(NETUID), '--json'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown> & {
      neurons: Array<Record<string, unknown>>;
      hyperparameters: Record<string, unknown>;
    };
    expect(out).toMatchObject({ network: node.url, netuid: NETUID, block: 100, weights: { 0: [{ uid: 1, weight: 1 }] } });
    expect(out.hyperparameters).toMatchObject({ tempo: 360, commitRevealEnabled: true, commitRevealVersion: 4, weightsVersion: 7 });
    expect(out['commitReveal']).toMatch(/^timelocked \(v4/);
    expect(out.neurons.map((n) => [n['uid'], n['hotkey'], n['commitment']])).toEqual([
      [0, alice.ss58, null],
      [1, bob.ss58, '<M:C4;L2>'],
    ]);
    // Read-only: nothing was submitted.
    expect(node.extrinsics).toEqual([]);
  }, 70_000);

  it('prints tables that say how horde would put weights on this subnet', async () => {
    node.setStorage('subtensorModule', 'commitRevealWeightsEnabled', [NETUID], false);
    const run = await horde(['chain', 'show', '--network', node.url, '--netuid', String(NETUID)], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`subnet ${NETUID} at block 100`);
    expect(run.stdout).toContain('commit-reveal: off (set_weights)');
    expect(run.stdout).toMatch(/1\s+5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty.*1\.2\.3\.4:8091.*<M:C4;L2>/);
    expect(run.stdout).toMatch(/WEIGHTS\n.*FROM UID.*\n0\s+1:1\.0000/);
  }, 70_000);
});
