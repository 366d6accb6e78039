import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { LocalChain } from '../chain/local/local-chain.js';
import { silentLogger } from '../logging/index.js';
import { openStore } from '../store/index.js';
import { announceAxon, versionAsInt } from './axon-announcer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test('version_as_int follows the bittensor SDK', () => {
  expect(versionAsInt('10.2.0')).toBe(10_002_000);
  expect(versionAsInt('0.1.0')).toBe(1_000);
  expect(versionAsInt('1.2.3-beta.1')).toBe(1_002_003);
});

test('every hotkey of the miner gets the axon validators will find in the metagraph', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-axon-'));
  dirs.push(dir);
  const store = await openStore({ client: 'sqlite', filename: join(dir, 'chain.sqlite') });
  await LocalChain.init(store, { blockTimeMs: 10, subnets: [{ netuid: 1, servingRateLimit: 0 }] });
  const admin = await LocalChain.open({ store, netuid: 1 });
  const hotkeys = ['5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty'];
  for (const hotkey of hotkeys) await admin.registerNeuron({ hotkey, coldkey: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y' });
  const chains = new Map(
    await Promise.all(hotkeys.map(async (hotkey) => [hotkey, await LocalChain.open({ store, netuid: 1, hotkey })] as const)),
  );

  await announceAxon({
    hotkeys,
    chainFor: (hotkey) => chains.get(hotkey)!,
    netuid: 1,
    axon: { ip: '127.0.0.1', port: 8123, version: 1000 },
    logger: silentLogger(),
  });

  const metagraph = await admin.metagraph(1);
  expect(metagraph.neurons.map((n) => n.axon)).toEqual(
    hotkeys.map(() => ({ ip: '127.0.0.1', port: 8123, ipType: 4, protocol: 4, version: 1000 })),
  );
  for (const chain of chains.values()) await chain.close();
  await admin.close();
  await store.close();
});
