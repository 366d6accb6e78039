import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { openStore } from '../../store/index.js';
import { pgDatabase } from '../../../../test/support/services.js';
import { localChainSuite } from './__tests__/local-chain-suite.js';

localChainSuite('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-localchain-'));
  const filename = join(dir, 'chain.sqlite');
  return {
    open: async () => [await openStore({ client: 'sqlite', filename }), await openStore({ client: 'sqlite', filename })],
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

// PostgreSQL where the test server is up (CI always has it: the global setup fails without it).
describe.runIf(Boolean(process.env['HORDE_TEST_PG_URL']) || Boolean(process.env['CI']))('PostgreSQL', () => {
  localChainSuite('PostgreSQL', () => {
    let drop: () => Promise<void> = async () => {};
    return {
      open: async () => {
        const db = await pgDatabase('horde_chain');
        drop = db.drop;
        return [
          await openStore({ client: 'postgres', url: db.url, poolMax: 2 }),
          await openStore({ client: 'postgres', url: db.url, poolMax: 2 }),
        ];
      },
      cleanup: () => drop(),
    };
  });
});
