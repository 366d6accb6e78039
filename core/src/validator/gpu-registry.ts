import type { JobRecord } from './job-driver.js';

/**
 * One GPU, one credit per cycle. Executors report their GPUs' UUIDs (nvidia-smi) with each
 * result; a card rented once and pointed at two miners would otherwise be paid twice. A UUID
 * served by hotkeys of *different* coldkeys in one cycle earns none of them anything: the
 * validator cannot tell which one really has the card, and paying the first to answer would let
 * a copier race an honest miner. Hotkeys of one coldkey share a horde (dancing), so the same card
 * behind several of them is allowed.
 */
export interface SharedGpu {
  readonly uuid: string;
  /** coldkey → hotkeys that served the GPU this cycle. */
  readonly servedBy: ReadonlyMap<string, readonly string[]>;
}

export interface GpuRegistryResult {
  /** The records, with jobs on a shared GPU turned wrong (`correct: false`) and the reason in `details`. */
  readonly records: readonly JobRecord[];
  readonly shared: readonly SharedGpu[];
}

/**
 * Applies the registry to one cycle's finished jobs. `coldkeyOf` maps a miner hotkey to its
 * coldkey (a hotkey whose coldkey is unknown counts as its own coldkey).
 */
export function refuseSharedGpus(records: readonly JobRecord[], coldkeyOf: (hotkey: string) => string): GpuRegistryResult {
  const byUuid = new Map<string, Map<string, Set<string>>>();
  for (const record of records) {
    for (const uuid of new Set(record.gpuUuids ?? [])) {
      const coldkeys = byUuid.get(uuid) ?? new Map<string, Set<string>>();
      byUuid.set(uuid, coldkeys);
      const coldkey = coldkeyOf(record.minerHotkey);
      coldkeys.set(coldkey, (coldkeys.get(coldkey) ?? new Set()).add(record.minerHotkey));
    }
  }
  const shared: SharedGpu[] = [];
  for (const [uuid, coldkeys] of byUuid) {
    if (coldkeys.size > 1)
      shared.push({ uuid, servedBy: new Map([...coldkeys].map(([coldkey, hotkeys]) => [coldkey, [...hotkeys].sort()])) });
  }
  if (shared.length === 0) return { records, shared };
  const sharedUuids = new Map(shared.map((gpu) => [gpu.uuid, gpu]));
  const result = records.map((record) => {
    const conflict = (record.gpuUuids ?? []).map((uuid) => sharedUuids.get(uuid)).find((gpu) => gpu !== undefined);
    if (!conflict) return record;
    const others = [...conflict.servedBy]
      .filter(([coldkey]) => coldkey !== coldkeyOf(record.minerHotkey))
      .flatMap(([, hotkeys]) => hotkeys);
    const reason = `GPU ${conflict.uuid} also served this cycle by ${others.join(', ')} (another coldkey): no credit`;
    return { ...record, correct: record.status === 'completed' ? false : record.correct, details: `${reason}; ${record.details}` };
  });
  return { records: result, shared };
}
