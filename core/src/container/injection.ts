// Constructor injection for plugins: tsyringe's `@injectable()` and `@inject(TOKEN)`, exported from
// `@horde/core` so a plugin decorates its classes with the same tsyringe that builds them (a copy of
// its own would keep the class's type information where horde's container never looks).
import { inject, injectable } from './di.js';

export { inject, injectable };

/**
 * tsyringe's metadata key for the tokens `@inject` records per constructor parameter (tsyringe 4,
 * `reflection-helpers`). Read here so the loader can check a class's dependencies before anything
 * is constructed, and refuse a parameter without `@inject`: horde compiles without emitted design
 * types, so such a parameter would reach the class as `undefined`.
 */
const INJECTION_TOKENS = 'injectionTokens';

/** A class tsyringe can build: every constructor parameter named by `@inject(TOKEN)`. */
export type InjectableClass<T> = new (...args: never[]) => T;

/** The tokens of a class's constructor parameters, by position; `undefined` where a parameter has no `@inject`. */
export function constructorTokens(target: InjectableClass<unknown>): readonly (unknown | undefined)[] {
  const recorded = (Reflect.getOwnMetadata(INJECTION_TOKENS, target) ?? {}) as Record<string, unknown>;
  return Array.from({ length: target.length }, (_, index) => {
    const entry = recorded[String(index)];
    // `@inject(token, { transform })` records an object holding the token.
    return typeof entry === 'object' && entry !== null && 'token' in entry ? (entry as { token: unknown }).token : entry;
  });
}
