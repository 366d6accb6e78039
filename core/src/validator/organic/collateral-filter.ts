import type { CollateralSnapshot } from '../../collateral/book.js';
import type { MinerTarget } from '../miner-client.js';

/**
 * Splits routing candidates by collateral: a miner is kept when the snapshot shows at least
 * `minimumWei` for its hotkey. A miner the snapshot does not know (joined the metagraph since
 * the last read) or without an associated EVM key has none, so it is skipped, as ComputeHorde
 * keeps only the miners `list_miners_with_sufficient_collateral` returns. Order is preserved.
 */
export function filterByCollateral(
  candidates: readonly MinerTarget[],
  snapshot: CollateralSnapshot,
  minimumWei: bigint,
): { kept: MinerTarget[]; skipped: Array<{ hotkey: string; wei: bigint }> } {
  const kept: MinerTarget[] = [];
  const skipped: Array<{ hotkey: string; wei: bigint }> = [];
  for (const target of candidates) {
    const wei = snapshot.miners.get(target.hotkey)?.wei ?? 0n;
    if (wei >= minimumWei) kept.push(target);
    else skipped.push({ hotkey: target.hotkey, wei });
  }
  return { kept, skipped };
}
