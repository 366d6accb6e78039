import { describe, expect, it } from 'vitest';
import { renderPage } from '../dashboard/render.js';
import type { TableSection } from '../dashboard/view.js';
import { openStore } from '../store/index.js';
import { validatorPage } from './dashboard-page.js';
import { TransferredReceiptsRepository } from './receipts/store.js';
import { collateralSection } from './dashboard-collateral.js';
import { ValidatorStore } from './store.js';

const TAO = 10n ** 18n;
const text = (cell: unknown) => (cell !== null && typeof cell === 'object' ? (cell as { text: string }).text : String(cell));
const snapshot = {
  atMs: 4_000,
  miners: new Map([
    [
      '5PoorMinerXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      {
        hotkey: '5PoorMinerXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
        evmAddress: '0x00000000000000000000000000000000000000b2',
        wei: TAO / 200n,
      },
    ],
    [
      '5RichMinerXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      {
        hotkey: '5RichMinerXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
        evmAddress: '0x00000000000000000000000000000000000000a1',
        wei: TAO / 50n,
      },
    ],
    [
      '5NoKeyMinerXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      { hotkey: '5NoKeyMinerXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', evmAddress: null, wei: 0n },
    ],
  ]),
};

describe('validator dashboard: collateral', () => {
  it('lists deposits, richest first, against the minimum', () => {
    const section = collateralSection({ snapshot, minimumWei: TAO / 100n, errorCode: null }, 10_000);
    expect(section.rows.map((row) => row.map(text))).toEqual([
      ['5RichMin…XXXXXX', '0x000000…0000a1', '0.02 TAO', 'yes'],
      ['5PoorMin…XXXXXX', '0x000000…0000b2', '0.005 TAO', 'below minimum'],
      ['5NoKeyMi…XXXXXX', 'no EVM key', '0 TAO', 'below minimum'],
    ]);
    expect(section.note).toBe('Minimum 0.01 TAO; read 6.0 s ago.');
  });

  it('says when nothing could be read and routing runs without the filter', () => {
    const section = collateralSection({ snapshot: null, minimumWei: TAO / 100n, errorCode: 'HORDE_COLLATERAL_RPC_UNREACHABLE' }, 10_000);
    expect(section.rows).toEqual([]);
    expect(section.note).toMatch(/not read yet: routing runs without the filter; last refresh failed \(HORDE_COLLATERAL_RPC_UNREACHABLE\)/);
  });

  it('appears on the validator page only with collateral on', async () => {
    const store = await openStore({ client: 'sqlite', filename: ':memory:' });
    try {
      const base = {
        hotkey: 'v',
        netuid: 12,
        store: new ValidatorStore(store, 'v'),
        receipts: new TransferredReceiptsRepository(store, 'v'),
        progress: () => ({ block: null, cycle: null, phase: 'idle' as const, lastBatch: null, lastScoredCycle: null, lastWeights: null }),
        metagraph: async () => null,
        now: () => 10_000,
      };
      expect((await validatorPage(base)).sections.some((s) => s.id === 'collateral')).toBe(false);
      const page = await validatorPage({ ...base, collateral: () => ({ snapshot, minimumWei: TAO / 100n, errorCode: null }) });
      expect((page.sections.find((s) => s.id === 'collateral') as TableSection).rows).toHaveLength(3);
      expect(renderPage(page, 10_000)).toContain('below minimum');
    } finally {
      await store.close();
    }
  });
});
