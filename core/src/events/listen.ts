import type { EventEmitter } from 'node:events';

/** A typed emitter's event map (node's `EventEmitter<T>`): event name → listener arguments. */
type EventMap<T> = Record<keyof T, unknown[]>;

/** One listener per event name, typed from the emitter's map. */
export type Listeners<T extends EventMap<T>> = { readonly [K in keyof T]?: (...args: T[K]) => void };

/**
 * Adds each of `listeners` to `emitter` and returns the function that removes exactly those: the
 * on/off pair written once, so an observer cannot add a listener and forget to remove it.
 */
export function listen<T extends EventMap<T>>(emitter: EventEmitter<T>, listeners: NoInfer<Listeners<T>>): () => void {
  // Node's typed overloads do not follow a key of T through Object.entries; the map is T's own.
  const untyped = emitter as unknown as EventEmitter;
  const entries = Object.entries(listeners).filter((entry): entry is [string, (...args: unknown[]) => void] => entry[1] !== undefined);
  for (const [event, listener] of entries) untyped.on(event, listener);
  return () => {
    for (const [event, listener] of entries) untyped.off(event, listener);
  };
}
