import type { Chain, DancingStrategy, ExecutorManager, Logger, Manifest } from '../contracts/index.js';

export interface HotkeyManifestsOptions {
  readonly manager: ExecutorManager;
  /** The DANCING_STRATEGY plugin, when one is loaded. */
  readonly strategy: DancingStrategy | null;
  /** ss58 of every hotkey this process serves, config order; the first is the default main hotkey. */
  readonly hotkeys: readonly string[];
  /** Source of the current block (cycle number); null gives cycle 0 (local mode without a chain). */
  readonly chain: Chain | null;
  readonly cycleLengthBlocks: number;
  readonly logger: Logger;
}

/**
 * What each of the miner's hotkeys declares, and which one is main (dancing).
 *
 * The executor manager's manifest is the whole horde. With a DANCING_STRATEGY plugin, the strategy
 * splits it across the hotkeys for the current cycle and names the main hotkey. Without one, the
 * first hotkey is main and declares the whole horde; the others declare nothing (with a single
 * hotkey that is simply the manager's manifest).
 */
export class HotkeyManifests {
  constructor(private readonly options: HotkeyManifestsOptions) {}

  get hotkeys(): readonly string[] {
    return this.options.hotkeys;
  }

  /** `floor(current block / cycle length)`: the cycle number the strategy gets. */
  async cycle(): Promise<number> {
    if (!this.options.chain) return 0;
    try {
      return Math.floor((await this.options.chain.currentBlock()) / this.options.cycleLengthBlocks);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the current block; using cycle 0 for dancing');
      return 0;
    }
  }

  /** Manifest per hotkey for the current cycle. */
  async all(): Promise<Record<string, Manifest>> {
    const manifest = await this.options.manager.manifest();
    const { strategy, hotkeys } = this.options;
    if (!strategy) {
      const split: Record<string, Manifest> = {};
      hotkeys.forEach((hotkey, i) => (split[hotkey] = i === 0 ? { ...manifest } : {}));
      return split;
    }
    const split = strategy.assign({ cycle: await this.cycle(), hotkeys, manifest });
    const result: Record<string, Manifest> = {};
    for (const hotkey of hotkeys) result[hotkey] = { ...(split[hotkey] ?? {}) };
    return result;
  }

  /** What `hotkey` declares to validators (`V0ExecutorManifestRequest`). */
  async forHotkey(hotkey: string): Promise<Manifest> {
    return (await this.all())[hotkey] ?? {};
  }

  /** The answer to `V0MainHotkeyMessage`. */
  async mainHotkey(): Promise<string> {
    const { strategy, hotkeys } = this.options;
    if (!strategy) return hotkeys[0]!;
    return strategy.mainHotkey({ cycle: await this.cycle(), hotkeys, manifest: await this.options.manager.manifest() });
  }
}
