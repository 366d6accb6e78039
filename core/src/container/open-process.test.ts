/**
 * `openProcess`, the composition root of every role, on a real PostgreSQL store and the LocalChain
 * kept in it: what it opens is registered under its token, plugins get it through their declared
 * deps, and `close()` undoes everything in reverse order (plugins while the store still answers,
 * then the chain, then the store), each step logged. A step that fails while opening closes what
 * was opened before it; a missing plugin dependency fails before anything opens.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAIN, CLOCK, CONFIG, LOGGER, METRICS, STORE } from '@horde/core';
import { createLogger, openProcess, parseConfig, type HordeConfigInput } from '@horde/core/runtime';
import { LocalChain } from '../chain/local/local-chain.js';
import { loadHotkey } from '../keys/index.js';
import { openStore } from '../store/index.js';
import { pgDatabase, type TestDatabase } from '../../../test/support/services.js';

let db: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'horde-open-process-'));

// A plugin whose dancing strategy needs the store: its close proves the store still answers then.
writeFileSync(
  join(dir, 'store-user.mjs'),
  `import { definePlugin, DANCING_STRATEGY, STORE } from '@horde/core';
export default definePlugin({
  name: 'fixture-store-user',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [DANCING_STRATEGY],
  register(ctx) {
    ctx.provide(DANCING_STRATEGY, {
      deps: { store: STORE },
      factory: ({ store }) => ({ name: 'store-user', store, mainHotkey: (c) => c.hotkeys[0], assign: () => ({}) }),
      close: async ({ store }) => {
        const rows = await store.db.raw('select 1 as one');
        ctx.logger.info({ answered: rows.rows[0].one === 1 }, 'store-user closing');
      },
    });
  },
});
`,
);
writeFileSync(
  join(dir, 'needs-objects.mjs'),
  `import { definePlugin, JOB_GENERATOR, OBJECT_STORE } from '@horde/core';
export default definePlugin({
  name: 'fixture-needs-objects',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [JOB_GENERATOR],
  register(ctx) {
    ctx.provide(JOB_GENERATOR, { deps: { objects: OBJECT_STORE }, factory: () => ({ name: 'never' }) });
  },
});
`,
);

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { logger, lines, closedSteps: () => lines.filter((line) => line['msg'] === 'closed').map((line) => line['step']) };
}

function configWith(input: HordeConfigInput) {
  return parseConfig({ dataDir: dir, metrics: { defaultMetrics: false }, ...input }, { baseDir: dir });
}

beforeAll(async () => {
  db = await pgDatabase('horde_open_process');
  const store = await openStore({ client: 'postgres', url: db.url });
  await LocalChain.init(store, { blockTimeMs: 100, subnets: [{ netuid: 7, tempo: 9 }] });
  await store.close();
});
afterAll(async () => {
  await db?.drop();
});

describe('openProcess', () => {
  it('opens store, chain and plugins, registers them in the container, and closes them in reverse order', async () => {
    const { logger, lines, closedSteps } = capturedLogger();
    const config = configWith({
      store: { client: 'postgres', url: db.url },
      chain: { network: 'local', netuid: 7 },
      plugins: ['./store-user.mjs'],
    });
    const scope = await openProcess(config, 'validator', { logger });
    expect(scope.role).toBe('validator');
    // The store is migrated and the chain is the LocalChain kept in it.
    expect(await scope.store.db.schema.hasTable('chain_local_meta')).toBe(true);
    expect((await scope.chain.metagraph(7)).netuid).toBe(7);
    // The container is the process's registry: infrastructure under its tokens, then the plugins' contracts.
    expect(scope.container.resolve(STORE)).toBe(scope.store);
    expect(scope.container.resolve(CHAIN)).toBe(scope.chain);
    expect(scope.container.resolve(CONFIG)).toBe(config);
    expect(scope.container.resolve(LOGGER)).toBe(logger);
    expect(scope.container.resolve(METRICS)).toBe(scope.metrics);
    expect(scope.container.resolve(CLOCK)).toBe(scope.clock);
    const strategy = scope.plugins.single((await import('@horde/core')).DANCING_STRATEGY) as unknown as { store: unknown };
    expect(strategy.store).toBe(scope.store);

    scope.cleanup.add('role', () => logger.info('role stopped'));
    expect(scope.cleanup.pending).toEqual(['store', 'chain', 'plugins', 'role']);
    await scope.close();
    expect(closedSteps()).toEqual(['role', 'plugins', 'chain', 'store']);
    expect(lines.find((line) => line['msg'] === 'store-user closing')?.['answered']).toBe(true);
    // Closed for real: the pool is gone.
    await expect(scope.store.db.raw('select 1')).rejects.toThrow();
    await scope.close(); // a second signal: nothing closes twice
    expect(closedSteps()).toEqual(['role', 'plugins', 'chain', 'store']);
  });

  it('names each chain client by its signer, and closes them newest first', async () => {
    const { logger, closedSteps } = capturedLogger();
    const config = configWith({ store: { client: 'postgres', url: db.url }, chain: { network: 'local', netuid: 7 } });
    const [first, second] = await Promise.all([loadHotkey({ uri: '//OpenProcessOne' }), loadHotkey({ uri: '//OpenProcessTwo' })]);
    const scope = await openProcess(config, 'miner', { logger, chainSigner: first! });
    await scope.openChain(second!);
    await scope.close();
    // The further hotkey's client was opened last (after the plugins), so it closes first.
    expect(closedSteps()).toEqual([`chain ${second!.ss58}`, 'plugins', `chain ${first!.ss58}`, 'store']);
  });

  it('leaves what it was given open: only what it opened is closed', async () => {
    const { logger, closedSteps } = capturedLogger();
    const store = await openStore({ client: 'postgres', url: db.url });
    try {
      const config = configWith({ chain: { network: 'local', netuid: 7 } });
      const scope = await openProcess(config, 'facilitator', { logger, store });
      expect(scope.store).toBe(store);
      await scope.close();
      expect(closedSteps()).toEqual(['chain']);
      expect((await store.db.raw('select 1 as one')).rows[0].one).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('closes the store it opened when the chain then fails to open, and throws the chain error', async () => {
    const { logger, closedSteps } = capturedLogger();
    // finney without a hotkey to sign with: refused before any connection is attempted.
    const config = configWith({ store: { client: 'postgres', url: db.url }, chain: { network: 'finney', netuid: 7 } });
    await expect(openProcess(config, 'validator', { logger })).rejects.toMatchObject({ code: 'HORDE_CHAIN_CONFIG' });
    expect(closedSteps()).toEqual(['store']);
  });

  it('goes on without a chain when the chain is optional (a local-mode miner), saying so', async () => {
    const { logger, lines } = capturedLogger();
    const config = configWith({ store: { client: 'postgres', url: db.url }, chain: { network: 'finney', netuid: 7 } });
    const scope = await openProcess(config, 'miner', { logger, chainOptional: true });
    try {
      expect(scope.chain).toBeNull();
      expect(scope.container.isRegistered(CHAIN, true)).toBe(false);
      expect(lines.some((line) => line['msg'] === 'no chain; going on without one' && line['level'] === 40)).toBe(true);
    } finally {
      await scope.close();
    }
  });

  it('refuses a missing plugin dependency before opening anything', async () => {
    const { logger, lines } = capturedLogger();
    const database = join(dir, 'never-created.sqlite');
    const config = configWith({ store: { client: 'sqlite', filename: database }, plugins: ['./needs-objects.mjs'] });
    await expect(openProcess(config, 'miner', { logger })).rejects.toMatchObject({ code: 'HORDE_PLUGIN_DEPENDENCY_MISSING' });
    expect(existsSync(database)).toBe(false);
    expect(lines.filter((line) => line['msg'] === 'closed')).toEqual([]);
  });

  it('gives an executor a logger and nothing to open: no store, no chain, no plugins', async () => {
    const { logger } = capturedLogger();
    const config = configWith({ plugins: ['./needs-objects.mjs'] });
    const scope = await openProcess(config, 'executor', { logger });
    expect(scope.store).toBeNull();
    expect(scope.chain).toBeNull();
    expect(scope.plugins.plugins).toEqual([]);
    await expect(scope.openChain(null)).rejects.toMatchObject({ code: 'HORDE_CHAIN_CONFIG' });
    await scope.close();
  });

  it('loads no store, chain or metrics library for an executor, which starts once per job against its time limit', () => {
    // A real `node` on core/dist, as `horde executor` runs: knex, @polkadot/api and prom-client cost
    // an executor seconds of its startup limit on a loaded machine, for nothing it uses.
    const dist = fileURLToPath(new URL('../../dist/container/open-process.js', import.meta.url));
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run build (tsc -b) first`);
    const script = `
      import { createRequire } from 'node:module';
      const { openProcess } = await import(${JSON.stringify(dist)});
      const { parseConfig } = await import(${JSON.stringify(fileURLToPath(new URL('../../dist/config/index.js', import.meta.url)))});
      const scope = await openProcess(parseConfig({ log: { level: 'silent' } }, { baseDir: process.cwd() }), 'executor');
      await scope.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(['knex', 'prom-client', '@polkadot'].filter((name) => loaded.some((path) => path.includes('/node_modules/' + name + '/')))));
    `;
    const heavy = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim(),
    ) as string[];
    expect(heavy).toEqual([]);
  });
});
