import { createHash } from 'node:crypto';
import type { DancingContext, DancingStrategy, Manifest } from '@horde/core';

/**
 * The three shipped strategies. Each is a pure function of the context (cycle, hotkeys, horde),
 * so every miner process of an operator and every restart agrees on the same answer.
 */

function emptyAssignment(hotkeys: readonly string[]): Record<string, Manifest> {
  const assignment: Record<string, Manifest> = {};
  for (const hotkey of hotkeys) assignment[hotkey] = {};
  return assignment;
}

function firstHotkey(ctx: DancingContext): string {
  const hotkey = ctx.hotkeys[0];
  if (hotkey === undefined) throw new RangeError('a dancing strategy needs at least one hotkey');
  return hotkey;
}

/** The whole horde under one hotkey, the others declaring nothing. */
function wholeHordeUnder(ctx: DancingContext, main: string): Record<string, Manifest> {
  const assignment = emptyAssignment(ctx.hotkeys);
  assignment[main] = { ...ctx.manifest };
  return assignment;
}

/** `none`: no dancing. The first hotkey is main for ever and declares the whole horde. */
export function noDancing(): DancingStrategy {
  return {
    name: 'none',
    mainHotkey: firstHotkey,
    assign: (ctx) => wholeHordeUnder(ctx, firstHotkey(ctx)),
  };
}

/**
 * `rotate-main`: the main hotkey walks through the hotkeys in config order, one step per cycle
 * (`hotkeys[cycle mod n]`, ComputeHorde's default `get_main_hotkey`), and the whole horde moves
 * with it. With two or more hotkeys the main hotkey changes every cycle, which earns the bonus.
 */
export function rotateMain(): DancingStrategy {
  const mainHotkey = (ctx: DancingContext): string => {
    firstHotkey(ctx);
    const n = ctx.hotkeys.length;
    return ctx.hotkeys[((ctx.cycle % n) + n) % n]!;
  };
  return { name: 'rotate-main', mainHotkey, assign: (ctx) => wholeHordeUnder(ctx, mainHotkey(ctx)) };
}

/** A uniform draw in [0, n) that depends only on its inputs (sha-256 of the seed and the labels). */
function draw(n: number, ...labels: Array<string | number>): number {
  const digest = createHash('sha256').update(labels.join('\u0000')).digest();
  return digest.readUInt32BE(0) % n;
}

/**
 * `random-split`: every executor is dealt to a hotkey at random each cycle, from a seed, so the
 * split is reproducible (same seed and cycle → same split) yet different from cycle to cycle. The
 * main hotkey is the one holding the most executors (first in config order on a tie).
 */
export function randomSplit(options: { readonly seed?: string } = {}): DancingStrategy {
  const seed = options.seed ?? 'horde';
  const assign = (ctx: DancingContext): Record<string, Manifest> => {
    firstHotkey(ctx);
    const assignment = emptyAssignment(ctx.hotkeys);
    for (const executorClass of Object.keys(ctx.manifest).sort()) {
      const count = ctx.manifest[executorClass] ?? 0;
      for (let executor = 0; executor < count; executor++) {
        const hotkey = ctx.hotkeys[draw(ctx.hotkeys.length, seed, ctx.cycle, executorClass, executor)]!;
        const manifest = assignment[hotkey]!;
        manifest[executorClass] = (manifest[executorClass] ?? 0) + 1;
      }
    }
    return assignment;
  };
  const mainHotkey = (ctx: DancingContext): string => {
    const assignment = assign(ctx);
    const size = (hotkey: string) => Object.values(assignment[hotkey] ?? {}).reduce((sum, count) => sum + count, 0);
    let main = firstHotkey(ctx);
    for (const hotkey of ctx.hotkeys) if (size(hotkey) > size(main)) main = hotkey;
    return main;
  };
  return { name: 'random-split', mainHotkey, assign };
}
