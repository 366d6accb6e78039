/** `T` with every field that may be undefined made optional (and never undefined when present). */
export type DefinedFields<T extends object> = {
  [K in keyof T as undefined extends T[K] ? never : K]: T[K];
} & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/**
 * `fields` without its undefined ones: `definedFields({ signal, trustedMiner })` instead of
 * `...(signal ? { signal } : {}), ...(trustedMiner ? { trustedMiner } : {})`. For objects whose
 * readers can tell a missing key from an undefined one: plugin-facing contexts (`'key' in ctx`),
 * strict schemas, spreads over defaults (`{ ...defaults, ...fields }` keeps a default only when
 * the key is missing). Only `undefined` is dropped; `null`, `0`, `''` and `false` stay, so a
 * caller that meant "truthy only" says so at the call (`value || undefined`).
 */
export function definedFields<T extends object>(fields: T): DefinedFields<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as DefinedFields<T>;
}
