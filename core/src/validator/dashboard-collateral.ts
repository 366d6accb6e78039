import { formatEther } from 'viem';
import type { CollateralSnapshot } from '../collateral/book.js';
import { formatAgo, keyCell, type Cell, type TableSection } from '../dashboard/view.js';

/** What the dashboard shows of collateral: the last snapshot, the minimum, and why reads fail. */
export interface CollateralView {
  readonly snapshot: CollateralSnapshot | null;
  readonly minimumWei: bigint;
  /** The code of the last failed refresh, if the last one failed. */
  readonly errorCode: string | null;
}

/** Each miner's deposit against the minimum: who gets organic jobs, and whose EVM key is missing. */
export function collateralSection(view: CollateralView, now: number): TableSection {
  const miners = [...(view.snapshot?.miners.values() ?? [])].sort((a, b) =>
    b.wei > a.wei ? 1 : b.wei < a.wei ? -1 : a.hotkey.localeCompare(b.hotkey),
  );
  const rows = miners.map((miner): Cell[] => [
    keyCell(miner.hotkey),
    miner.evmAddress ? keyCell(miner.evmAddress) : { text: 'no EVM key', tone: 'muted' },
    `${formatEther(miner.wei)} TAO`,
    miner.wei >= view.minimumWei ? { text: 'yes', tone: 'ok' } : { text: 'below minimum', tone: 'warn' },
  ]);
  const read = view.snapshot ? `read ${formatAgo(view.snapshot.atMs, now)}` : 'not read yet: routing runs without the filter';
  return {
    kind: 'table',
    id: 'collateral',
    title: 'Collateral',
    note: `Minimum ${formatEther(view.minimumWei)} TAO; ${read}${view.errorCode ? `; last refresh failed (${view.errorCode})` : ''}.`,
    columns: ['Hotkey', 'EVM address', 'Deposit', 'Organic jobs'],
    rows,
    empty: view.errorCode ? `No collateral read yet (${view.errorCode}).` : 'No collateral read yet.',
  };
}
