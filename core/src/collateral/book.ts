import pLimit from 'p-limit';
import type { Chain, Clock, Logger } from '../contracts/index.js';
import type { CollateralContract } from './client.js';
import { CollateralError } from './errors.js';

/** What the validator knows of one miner's collateral. */
export interface MinerCollateral {
  readonly hotkey: string;
  /** The H160 its hotkey associated on chain; null when it has none (then it has no collateral). */
  readonly evmAddress: string | null;
  readonly wei: bigint;
}

/** Every metagraph miner's collateral as read at `atMs`. */
export interface CollateralSnapshot {
  readonly atMs: number;
  readonly miners: ReadonlyMap<string, MinerCollateral>;
}

export interface CollateralBookDeps {
  readonly chain: Chain;
  readonly netuid: number;
  readonly contract: CollateralContract;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Contract reads at once during a refresh. */
  readonly concurrency?: number;
}

/**
 * Hotkey → EVM address → deposit, for every miner of the metagraph (ComputeHorde's
 * `sync_collaterals`): the chain's `AssociatedEvmAddress` map gives each uid's H160, the contract
 * its `collaterals`. The last good snapshot is kept; a refresh that fails (RPC down, wrong chain,
 * no contract) leaves it in place, as the original keeps the values in its database, and a miner
 * whose read failed keeps its previous amount. Unlike the original, an EVM address associated with
 * several hotkeys counts for none of them, so one deposit cannot qualify many hotkeys.
 */
export class CollateralBook {
  private current: CollateralSnapshot | null = null;
  private lastError: CollateralError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<CollateralSnapshot> | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: CollateralBookDeps) {
    this.log = deps.logger.child({ component: 'collateral' });
  }

  /** The last good snapshot, or null if none could be read yet. */
  snapshot(): CollateralSnapshot | null {
    return this.current;
  }

  /** Why the last refresh failed (null after a good one). */
  get error(): CollateralError | null {
    return this.lastError;
  }

  private async associations(): Promise<ReadonlyMap<number, string>> {
    const read = this.deps.chain.associatedEvmAddresses;
    if (!read)
      throw new CollateralError(
        'HORDE_COLLATERAL_NO_ASSOCIATIONS',
        `the chain client (${this.deps.chain.network}) cannot read EVM key associations`,
      );
    try {
      return await read.call(this.deps.chain, this.deps.netuid);
    } catch (err) {
      throw new CollateralError(
        'HORDE_COLLATERAL_NO_ASSOCIATIONS',
        `reading the EVM key associations of subnet ${this.deps.netuid} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** The H160 the miner's hotkey has associated now (read fresh, for a slash). */
  async evmAddressOf(hotkey: string): Promise<string> {
    const [metagraph, associations] = await Promise.all([this.deps.chain.metagraph(this.deps.netuid), this.associations()]);
    const neuron = metagraph.neurons.find((n) => n.hotkey === hotkey);
    const address = neuron ? associations.get(neuron.uid) : undefined;
    if (!address)
      throw new CollateralError(
        'HORDE_COLLATERAL_NO_EVM_ADDRESS',
        `miner ${hotkey} has no EVM key associated on subnet ${this.deps.netuid}`,
      );
    return address;
  }

  /** Reads every miner's collateral again; throws (a CollateralError) only when nothing could be read. */
  refresh(): Promise<CollateralSnapshot> {
    this.refreshing ??= this.readAll().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async readAll(): Promise<CollateralSnapshot> {
    try {
      await this.deps.contract.ready();
      const [metagraph, associations] = await Promise.all([this.deps.chain.metagraph(this.deps.netuid), this.associations()]);
      const previous = this.current?.miners;
      // One deposit counts for one miner: an EVM address several hotkeys associated (one key
      // reused to make one deposit qualify many hotkeys) counts for none of them.
      const holders = new Map<string, number>();
      for (const neuron of metagraph.neurons) {
        const address = associations.get(neuron.uid)?.toLowerCase();
        if (address) holders.set(address, (holders.get(address) ?? 0) + 1);
      }
      const shared = new Set([...holders].filter(([, count]) => count > 1).map(([address]) => address));
      if (shared.size > 0)
        this.log.warn(
          { sharedEvmAddresses: [...shared] },
          'collateral: EVM addresses associated with more than one hotkey count for none of them',
        );
      const limit = pLimit(this.deps.concurrency ?? 8);
      let failed = 0;
      const entries = await Promise.all(
        metagraph.neurons.map((neuron) =>
          limit(async (): Promise<[string, MinerCollateral]> => {
            const evmAddress = associations.get(neuron.uid) ?? null;
            if (evmAddress === null || shared.has(evmAddress.toLowerCase()))
              return [neuron.hotkey, { hotkey: neuron.hotkey, evmAddress, wei: 0n }];
            try {
              return [neuron.hotkey, { hotkey: neuron.hotkey, evmAddress, wei: await this.deps.contract.collateralOf(evmAddress) }];
            } catch (err) {
              failed += 1;
              const before = previous?.get(neuron.hotkey);
              const kept = before && before.evmAddress === evmAddress ? before.wei : 0n;
              this.log.warn(
                { minerHotkey: neuron.hotkey, evmAddress, code: (err as CollateralError).code, err: (err as Error).message },
                'collateral: reading a miner failed, keeping its previous amount',
              );
              return [neuron.hotkey, { hotkey: neuron.hotkey, evmAddress, wei: kept }];
            }
          }),
        ),
      );
      const snapshot: CollateralSnapshot = { atMs: this.deps.clock.now(), miners: new Map(entries) };
      this.current = snapshot;
      this.lastError = null;
      this.log.info({ miners: entries.length, associated: associations.size, failed }, 'collateral: deposits read');
      return snapshot;
    } catch (err) {
      const error =
        err instanceof CollateralError
          ? err
          : new CollateralError('HORDE_COLLATERAL_RPC_ERROR', `reading collateral failed: ${(err as Error).message}`, { cause: err });
      this.lastError = error;
      this.log.warn(
        { code: error.code, err: error.message, keptSnapshotAt: this.current?.atMs ?? null },
        'collateral: refresh failed, keeping the last snapshot',
      );
      throw error;
    }
  }

  /** Refreshes now and then every `intervalMs`; failures are logged, never thrown. */
  start(intervalMs: number): void {
    if (this.timer) return;
    const tick = () => void this.refresh().catch(() => undefined);
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing?.catch(() => undefined);
  }
}
