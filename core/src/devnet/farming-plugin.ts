import { DANCING_STRATEGY } from '../contracts/index.js';
import type { DancingContext, DancingStrategy, Manifest } from '../contracts/index.js';
import { definePlugin } from '../plugin/index.js';

/**
 * The devnet's dancing farmer (`horde devnet --farmers N`): one hotkey that claims to dance and
 * moves nothing. Every other cycle it answers `V0MainHotkeyMessage` with a hotkey registered
 * nowhere (//Ferdie's), then with its own again, which ComputeHorde pays a 30 % bonus for every
 * cycle; its executors stay on its one hotkey throughout. The validator must pay it no bonus.
 * A devnet adversary like the cheaters' `cheat.mjs`: never load it anywhere else.
 */
export const FARMER_GHOST_HOTKEY = '5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL';

function ownHotkey(ctx: DancingContext): string {
  const hotkey = ctx.hotkeys[0];
  if (hotkey === undefined) throw new RangeError('the farming strategy needs a hotkey');
  return hotkey;
}

export const farmingStrategy: DancingStrategy = {
  name: 'devnet-farmer',
  mainHotkey: (ctx) => (ctx.cycle % 2 === 0 ? FARMER_GHOST_HOTKEY : ownHotkey(ctx)),
  assign: (ctx): Record<string, Manifest> => ({ [ownHotkey(ctx)]: { ...ctx.manifest } }),
};

export default definePlugin({
  name: 'horde-devnet-farmer',
  version: '1.0.0',
  apiRange: '^1.0.0',
  description: 'devnet adversary: claims a new main hotkey every other cycle, moves no executor',
  provides: [DANCING_STRATEGY],
  register(ctx) {
    ctx.provide(DANCING_STRATEGY, { useValue: farmingStrategy });
  },
});
