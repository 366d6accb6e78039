import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { childSchema, kindOf, objectKeys, type SchemaKind } from './introspect.js';
import { camelCase, displayPath, envVarFor } from './paths.js';
import { closest } from './suggest.js';

const PREFIX = 'HORDE_';

/**
 * Sections that an environment variable replaces as a whole instead of merging into the file's.
 * The hotkey's three forms exclude each other, so `HORDE_HOTKEY__URI=//Bob` must not be merged with
 * a `wallet:` from the file.
 */
const REPLACED_WHOLE = new Set(['hotkey']);

/** Variables that are not settings (and are read elsewhere). */
const NOT_SETTINGS = new Set(['HORDE_CONFIG']);

export interface EnvAssignment {
  readonly variable: string;
  readonly path: readonly string[];
  readonly value: unknown;
}

export interface EnvOverrides {
  readonly assignments: readonly EnvAssignment[];
  /** Display path (`chain.netuid`) → the variable that set it. */
  readonly sources: ReadonlyMap<string, string>;
}

function matchKey(segment: string, keys: readonly string[]): string | undefined {
  const wanted = segment.replace(/_/g, '').toLowerCase();
  return keys.find((key) => key.toLowerCase() === wanted);
}

/** Turns the variable's text into the type the setting expects; leaves it a string when it cannot. */
function coerce(raw: string, kind: SchemaKind | undefined): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'number':
      return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : raw;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      return raw;
    }
    case 'array':
      if (text.startsWith('[')) return parseJson(raw);
      return text === '' ? [] : text.split(',').map((item) => item.trim());
    case 'string':
    case 'enum':
    case 'union':
      return raw;
    default:
      return text.startsWith('{') || text.startsWith('[') ? parseJson(raw) : raw;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Reads `HORDE_*` variables into config assignments. `__` separates levels and single underscores
 * separate words: `HORDE_CHAIN__LOCAL__BLOCK_TIME_MS=2000` sets `chain.local.blockTimeMs` to 2000.
 * Variables whose first word is no top-level setting (`HORDE_TEST_PG_URL`) are not settings and
 * are ignored; a known section with an unknown key is an error, so a typo is never silently lost.
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv, schema: z.ZodType): EnvOverrides {
  const assignments: EnvAssignment[] = [];
  const problems: string[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(PREFIX) || raw === undefined || NOT_SETTINGS.has(variable)) continue;
    const segments = variable.slice(PREFIX.length).split('__');
    const path: string[] = [];
    let current: z.ZodType | undefined = schema;
    let unknown = false;
    for (const segment of segments) {
      const keys: string[] | null = current ? objectKeys(current) : null;
      if (current && keys) {
        const key = matchKey(segment, keys);
        if (key === undefined) {
          if (path.length === 0) {
            unknown = true; // not a setting at all (HORDE_TEST_PG_URL and the like)
            break;
          }
          const guess = closest(camelCase(segment), keys);
          const hint = guess ? `; did you mean ${envVarFor([...path, guess])}?` : '';
          problems.push(`${variable}: ${displayPath(path)} has no setting "${camelCase(segment)}"${hint} (known: ${keys.join(', ')})`);
          unknown = true;
          break;
        }
        path.push(key);
        current = childSchema(current, key);
      } else {
        // Beyond the schema's plain objects (inside a record or list): keep the words as written.
        path.push(camelCase(segment));
        current = undefined;
      }
    }
    if (unknown) continue;
    assignments.push({ variable, path, value: coerce(raw, current ? kindOf(current) : 'string') });
  }
  if (problems.length) throw new ConfigError('HORDE_CONFIG_INVALID', 'Invalid HORDE_* environment variables:', problems);
  // Whole-section values first, so `HORDE_HOTKEY=…` and `HORDE_HOTKEY__URI=…` apply in a fixed order.
  assignments.sort((a, b) => a.path.length - b.path.length || a.variable.localeCompare(b.variable));
  return {
    assignments,
    sources: new Map(assignments.map((assignment) => [displayPath(assignment.path), assignment.variable])),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The file's config with the environment's assignments applied (the file's object is not changed). */
export function applyEnvOverrides(fileConfig: Record<string, unknown>, overrides: EnvOverrides): Record<string, unknown> {
  const result: Record<string, unknown> = structuredClone(fileConfig);
  const replaced = new Set<string>();
  for (const { path, value } of overrides.assignments) {
    const [section] = path;
    if (section !== undefined && REPLACED_WHOLE.has(section) && !replaced.has(section)) {
      replaced.add(section);
      delete result[section];
    }
    let target = result;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (isPlainObject(next)) target = next;
      else {
        // A string shorthand (`hotkey: //Alice`) turns into its object form before a key is set on it.
        const created: Record<string, unknown> = typeof next === 'string' && key === 'hotkey' ? { uri: next } : {};
        target[key] = created;
        target = created;
      }
    }
    const last = path[path.length - 1];
    if (last !== undefined) target[last] = value;
  }
  return result;
}
