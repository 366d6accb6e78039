import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { parseConfig } from '../config/index.js';
import { openStore } from '../store/index.js';
import { LocalChain } from './local/local-chain.js';
import { localChainInitOptions, openChain } from './open-chain.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('openChain with chain.local.store', () => {
  test('processes with their own stores share one chain kept in the chain store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'horde-open-chain-'));
    dirs.push(dir);
    const chainFile = join(dir, 'chain.sqlite');
    const configFor = (name: string) =>
      parseConfig(
        {
          dataDir: join(dir, name),
          chain: { network: 'local', netuid: 3, local: { blockTimeMs: 50, store: { client: 'sqlite', filename: chainFile } } },
        },
        { baseDir: dir },
      );

    const chainStore = await openStore({ client: 'sqlite', filename: chainFile });
    await LocalChain.init(chainStore, localChainInitOptions(configFor('owner').chain));
    const owner = await LocalChain.open({ store: chainStore, netuid: 3 });
    await owner.registerNeuron({
      hotkey: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
      coldkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
      stake: 10,
    });

    // One after the other: better-sqlite3 is synchronous, so two connections of one process
    // waiting on each other's lock would block the event loop both need.
    const open = async (name: string) => {
      const config = configFor(name);
      const own = await openStore({ client: 'sqlite', filename: config.store.filename! });
      return { own, chain: await openChain(config.chain, null, own) };
    };
    const a = await open('miner');
    const b = await open('validator');
    const [ma, mb] = await Promise.all([a!.chain.metagraph(3), b!.chain.metagraph(3)]);
    expect(ma.neurons.map((n) => n.hotkey)).toEqual(['5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY']);
    expect(mb.neurons).toEqual(ma.neurons);
    // The chain lives in the chain store; the processes' own stores hold none of it.
    expect(await chainStore.db('chain_local_meta').count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await a!.own.db('chain_local_meta').count({ n: '*' })).toEqual([{ n: 0 }]);

    // Closing a chain closes the store it opened for itself, not the process's store.
    await a!.chain.close();
    await expect(a!.own.db.raw('select 1')).resolves.toBeDefined();
    await Promise.all([b!.chain.close(), a!.own.close(), b!.own.close(), owner.close(), chainStore.close()]);
  });
});
