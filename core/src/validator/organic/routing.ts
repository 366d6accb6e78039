import type { Manifest, Metagraph } from '../../contracts/index.js';
import type { MinerTarget } from '../miner-client.js';

/**
 * Which miner runs an organic job. ComputeHorde routes by allowance and reliability; horde's
 * default is deliberately simple and documented here:
 *
 * 1. Candidates are the metagraph's neurons serving an axon, except this validator and the miners
 *    blacklisted for cheating.
 * 2. A miner whose latest known manifest (from an earlier connection, or this validator's last
 *    batch) does not declare the class, or whose busy executors (organic jobs this validator runs
 *    there now, plus other validators' organic jobs that transferred receipts show running there)
 *    reach the declared count, is skipped. Miners with no known manifest come after
 *    those known to fit; their manifest is read when the validator connects.
 * 3. Within each group the least recently used miners go first; ties are broken at random, so
 *    jobs spread over idle miners.
 *
 * The job then tries candidates in that order until one connects and its fresh manifest has room
 * (at most `routingAttempts`). A miner that accepts and then declines (busy) ends the job as
 * rejected; the client's `runUntilComplete` tries again.
 */
export class MinerRouter {
  private readonly lastUsed = new Map<string, number>();
  private readonly busy = new Map<string, number>();
  private readonly manifests = new Map<string, Manifest>();

  constructor(
    private readonly ownHotkey: string,
    private readonly random: () => number = Math.random,
  ) {}

  private static key(hotkey: string, executorClass: string): string {
    return `${hotkey}\u0000${executorClass}`;
  }

  /** A manifest a miner just sent (newer than anything known). */
  rememberManifest(hotkey: string, manifest: Manifest): void {
    this.manifests.set(hotkey, manifest);
  }

  busyCount(hotkey: string, executorClass: string): number {
    return this.busy.get(MinerRouter.key(hotkey, executorClass)) ?? 0;
  }

  /**
   * Whether `manifest` has a free executor of the class for another job of this validator.
   * `busyElsewhere`: executors other validators' organic jobs hold there (from transferred receipts).
   */
  hasRoom(hotkey: string, executorClass: string, manifest: Manifest, busyElsewhere: ReadonlyMap<string, number> = new Map()): boolean {
    return (manifest[executorClass] ?? 0) > this.busyCount(hotkey, executorClass) + (busyElsewhere.get(hotkey) ?? 0);
  }

  /**
   * Candidates in the order to try them. `stored` are manifests from the validator's batches
   * (older than the ones miners sent to the organic path, which win).
   */
  candidates(
    metagraph: Metagraph,
    executorClass: string,
    options: { blacklisted: ReadonlySet<string>; stored?: Readonly<Record<string, Manifest>>; busyElsewhere?: ReadonlyMap<string, number> },
  ): MinerTarget[] {
    const fitting: MinerTarget[] = [];
    const unknown: MinerTarget[] = [];
    for (const neuron of metagraph.neurons) {
      if (neuron.axon === null || neuron.hotkey === this.ownHotkey || options.blacklisted.has(neuron.hotkey)) continue;
      const target: MinerTarget = {
        hotkey: neuron.hotkey,
        coldkey: neuron.coldkey,
        uid: neuron.uid,
        host: neuron.axon.ip,
        port: neuron.axon.port,
      };
      const manifest = this.manifests.get(target.hotkey) ?? options.stored?.[target.hotkey];
      if (!manifest) unknown.push(target);
      else if (this.hasRoom(target.hotkey, executorClass, manifest, options.busyElsewhere)) fitting.push(target);
    }
    return [...this.leastRecentlyUsedFirst(fitting), ...this.leastRecentlyUsedFirst(unknown)];
  }

  private leastRecentlyUsedFirst(targets: MinerTarget[]): MinerTarget[] {
    const keyed = targets.map((target) => ({ target, used: this.lastUsed.get(target.hotkey) ?? 0, tie: this.random() }));
    keyed.sort((a, b) => a.used - b.used || a.tie - b.tie);
    return keyed.map((entry) => entry.target);
  }

  /** A job starts on the miner: one more busy executor, and the miner becomes the most recently used. */
  reserve(hotkey: string, executorClass: string, now: number): void {
    const key = MinerRouter.key(hotkey, executorClass);
    this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    this.lastUsed.set(hotkey, Math.max(now, (this.lastUsed.get(hotkey) ?? 0) + 1));
  }

  release(hotkey: string, executorClass: string): void {
    const key = MinerRouter.key(hotkey, executorClass);
    const left = (this.busy.get(key) ?? 0) - 1;
    if (left > 0) this.busy.set(key, left);
    else this.busy.delete(key);
  }
}
