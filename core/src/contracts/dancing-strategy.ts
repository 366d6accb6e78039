import type { Manifest } from './executor-manager.js';

export interface DancingContext {
  /** Validator cycle number (cycle length is a chain setting; 722 blocks on mainnet). */
  readonly cycle: number;
  /** Hotkeys this miner serves, all under one coldkey, in the order the config lists them. */
  readonly hotkeys: readonly string[];
  /** The whole horde: executor counts per class across all hotkeys. */
  readonly manifest: Manifest;
}

/**
 * Miner side of "dancing": one operator with several hotkeys under one coldkey shares one horde of
 * executors between them. Validators pay a bonus to a coldkey whose main hotkey changes between
 * cycles, which makes copying weights from one cycle to the next unreliable.
 *
 * Both methods are pure functions of the context: every miner process of the operator and every
 * restart must arrive at the same answer for the same cycle.
 */
export interface DancingStrategy {
  readonly name: string;
  /** The hotkey reported as main in `V0MainHotkeyMessage` for this cycle. */
  mainHotkey(ctx: DancingContext): string;
  /**
   * How the executors are split across the hotkeys this cycle: hotkey → manifest. The counts of
   * each class must add up to at most `ctx.manifest`'s count.
   */
  assign(ctx: DancingContext): Record<string, Manifest>;
}
