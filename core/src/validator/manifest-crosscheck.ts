import type { Manifest } from '../contracts/index.js';

/**
 * Whether a manifest served over the websocket disagrees with the miner's chain commitment: some
 * executor class has another count in one than in the other (absent = 0). Classes outside
 * `committable` (no short code, so no commitment can carry them) are not compared.
 */
export function manifestsDisagree(served: Manifest, committed: Manifest, committable?: ReadonlySet<string>): boolean {
  for (const executorClass of new Set([...Object.keys(served), ...Object.keys(committed)])) {
    if (committable && !committable.has(executorClass)) continue;
    if ((served[executorClass] ?? 0) !== (committed[executorClass] ?? 0)) return true;
  }
  return false;
}
