import { loadHotkey } from '../keys/index.js';

/**
 * The devnet's accounts: sr25519 dev URIs under `//horde-devnet`, the same on every run, so a
 * hotkey in one run's logs is the same in the next. Never use them anywhere real: anybody can
 * derive them.
 */
export const DEVNET_URI_ROOT = '//horde-devnet';

/** `farmer`: one hotkey claiming to dance (`--farmers`), see farming-plugin.ts. */
export type Behaviour = 'honest' | 'cheater' | 'dancer' | 'farmer';

export interface DevKey {
  readonly uri: string;
  readonly ss58: string;
}

export interface MinerKeys {
  /** `miner-1`, … */
  readonly name: string;
  readonly behaviour: Behaviour;
  /** One hotkey; a dancer has two under its one coldkey. */
  readonly hotkeys: readonly DevKey[];
  readonly coldkey: DevKey;
}

export interface DevnetKeys {
  readonly validator: { readonly hotkey: DevKey; readonly coldkey: DevKey };
  /** The validator's trusted miner: local mode, not on chain. */
  readonly trustedMiner: DevKey;
  readonly miners: readonly MinerKeys[];
}

async function devKey(path: string): Promise<DevKey> {
  const uri = `${DEVNET_URI_ROOT}/${path}`;
  return { uri, ss58: (await loadHotkey({ uri })).ss58 };
}

/**
 * Which miner does what: the first ones are honest, then the cheaters, then the dancers, then the
 * farmers (`miner-1` … `miner-N`). Miner `i` signs with `//horde-devnet/miner-i` under coldkey
 * `//horde-devnet/coldkey-i`; a dancer's second hotkey is `//horde-devnet/miner-i-2`.
 */
export function behaviours(miners: number, cheaters: number, dancers: number, farmers = 0): Behaviour[] {
  const honest = miners - cheaters - dancers - farmers;
  return Array.from({ length: miners }, (_, i) =>
    i < honest ? 'honest' : i < honest + cheaters ? 'cheater' : i < honest + cheaters + dancers ? 'dancer' : 'farmer',
  );
}

export async function devnetKeys(options: { miners: number; cheaters: number; dancers: number; farmers?: number }): Promise<DevnetKeys> {
  const plan = behaviours(options.miners, options.cheaters, options.dancers, options.farmers ?? 0);
  const miners = await Promise.all(
    plan.map(async (behaviour, i): Promise<MinerKeys> => {
      const n = i + 1;
      const hotkeys = behaviour === 'dancer' ? [await devKey(`miner-${n}`), await devKey(`miner-${n}-2`)] : [await devKey(`miner-${n}`)];
      return { name: `miner-${n}`, behaviour, hotkeys, coldkey: await devKey(`coldkey-${n}`) };
    }),
  );
  return {
    validator: { hotkey: await devKey('validator'), coldkey: await devKey('coldkey-validator') },
    trustedMiner: await devKey('trusted-miner'),
    miners,
  };
}
