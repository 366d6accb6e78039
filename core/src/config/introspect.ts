import type { z } from 'zod';

/**
 * Just enough of zod's schema internals to walk a config schema by key: env overrides need the
 * type at a path (to turn `"12"` into 12), error messages need the keys an object accepts.
 */
interface SchemaDef {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly options?: readonly z.ZodType[];
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Wrappers that do not change what a value looks like. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

/** The schema under defaults, optionals and transforms (`z.preprocess(f, X)` → X). */
export function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in && def.out) {
      // A transform pipes into its output schema (`in` is the parsing side); a preprocess pipes
      // from a transform into the real schema.
      current = defOf(def.in).type === 'transform' ? def.out : def.in;
    } else return current;
  }
}

export type SchemaKind = 'object' | 'number' | 'boolean' | 'string' | 'enum' | 'array' | 'union' | 'other';

export function kindOf(schema: z.ZodType): SchemaKind {
  const type = defOf(unwrap(schema)).type;
  switch (type) {
    case 'object':
    case 'number':
    case 'boolean':
    case 'string':
    case 'enum':
    case 'array':
    case 'union':
      return type;
    default:
      return 'other';
  }
}

/** Keys of an object schema (after unwrapping), or null when the schema is not an object. */
export function objectKeys(schema: z.ZodType): string[] | null {
  const def = defOf(unwrap(schema));
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : null;
}

/** The schema of `key` in an object schema, or undefined when it has no such key. */
export function childSchema(schema: z.ZodType, key: string): z.ZodType | undefined {
  const def = defOf(unwrap(schema));
  return def.type === 'object' ? def.shape?.[key] : undefined;
}

/** The schema at a path of object keys; undefined once the path leaves plain objects. */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const key of path) {
    if (!current || typeof key !== 'string') return undefined;
    current = childSchema(current, key);
  }
  return current;
}
