import type { Chain, Clock, Logger, Metagraph } from '../contracts/index.js';
import type { ValidatorStatus } from '../protocol/auth.js';

export interface ValidatorDirectoryOptions {
  /** Null in local mode (no chain checks at all). */
  readonly chain: Chain | null;
  readonly netuid: number;
  /** Least total stake (whole units) besides a validator permit. */
  readonly minStake: number;
  /** Accepted without chain checks. */
  readonly debugAllowed: readonly string[];
  /** Trusted-miner mode: only this hotkey is accepted, and without chain checks. */
  readonly localModeValidator: string | null;
  readonly refreshMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Which validators may talk to this miner (ComputeHorde's `Validator(active, debug)` table, kept
 * from the chain): a neuron of the subnet with a validator permit and at least `minStake`, or a
 * hotkey on the debug allow-list. In local mode exactly one, off-chain validator.
 *
 * The metagraph is read at most every `refreshMs` (60 s, as the original's sync task); an old copy
 * is used while a new one loads, so an auth never waits on the chain except for the first read.
 */
export class ValidatorDirectory {
  private metagraph: Metagraph | null = null;
  /** The metagraph's neurons by hotkey: `stakesOf` looks up every competing validator on every request. */
  private neurons = new Map<string, Metagraph['neurons'][number]>();
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(private readonly options: ValidatorDirectoryOptions) {}

  /** Accepted without a chain check (debug list or local mode). */
  isDebug(hotkey: string): boolean {
    return this.options.localModeValidator !== null
      ? hotkey === this.options.localModeValidator
      : this.options.debugAllowed.includes(hotkey);
  }

  async status(hotkey: string): Promise<ValidatorStatus> {
    const { localModeValidator, chain, minStake } = this.options;
    if (localModeValidator !== null) return hotkey === localModeValidator ? 'active' : 'unknown';
    if (this.options.debugAllowed.includes(hotkey)) return 'active';
    if (!chain) return 'unknown';
    const metagraph = await this.current();
    const neuron = metagraph ? this.neurons.get(hotkey) : undefined;
    if (!neuron) return 'unknown';
    return neuron.validatorPermit && neuron.stake.total >= minStake ? 'active' : 'inactive';
  }

  /**
   * Validators' total stakes from the metagraph (whole units), in the order asked: what the
   * capacity policy shares executors by. 0 for a hotkey not on the subnet (debug allow-list, local
   * mode). One metagraph read for all of them: this runs on every initial job request, for every
   * validator competing for the class (with a promise per validator, the capacity check's garbage
   * per accepted job was 173 KB; 47 KB now).
   */
  async stakesOf(hotkeys: readonly string[]): Promise<number[]> {
    const metagraph = !this.options.chain || this.options.localModeValidator !== null ? null : await this.current();
    return hotkeys.map((hotkey) => (metagraph ? (this.neurons.get(hotkey)?.stake.total ?? 0) : 0));
  }

  private async current(): Promise<Metagraph | null> {
    const age = this.options.clock.now() - this.loadedAt;
    if (this.metagraph === null || age >= this.options.refreshMs) {
      const refresh = (this.loading ??= this.load().finally(() => {
        this.loading = null;
      }));
      // Wait only when there is nothing to answer with yet.
      if (this.metagraph === null) await refresh;
    }
    return this.metagraph;
  }

  private async load(): Promise<void> {
    try {
      const metagraph = await this.options.chain!.metagraph(this.options.netuid);
      const neurons = new Map<string, Metagraph['neurons'][number]>();
      // The first neuron of a hotkey wins, as `find` did.
      for (const neuron of metagraph.neurons) if (!neurons.has(neuron.hotkey)) neurons.set(neuron.hotkey, neuron);
      this.metagraph = metagraph;
      this.neurons = neurons;
      this.loadedAt = this.options.clock.now();
      this.options.logger.debug(
        { block: this.metagraph.block, neurons: this.metagraph.neurons.length },
        'metagraph refreshed for validator checks',
      );
    } catch (error) {
      this.options.logger.error({ err: error }, 'could not read the metagraph; validator checks use the last copy');
    }
  }
}
