/**
 * Typed injection tokens. tsyringe accepts plain symbols as tokens but loses the type they stand
 * for; `Token<T>` keeps it so `resolve(container, TOKEN)` is typed without casts at call sites.
 * `Symbol.for` makes a token identical across two copies of @horde/core in one process (a plugin
 * installed with its own copy still talks to the runtime's container).
 */
export type Token<T> = symbol & { readonly __hordeToken?: T };

export function createToken<T>(name: string): Token<T> {
  return Symbol.for(`horde.${name}`) as Token<T>;
}

/** Name of a token for error messages: `horde.ExecutorManager` → `ExecutorManager`. */
export function tokenName(token: symbol): string {
  return (token.description ?? 'anonymous').replace(/^horde\./, '');
}
