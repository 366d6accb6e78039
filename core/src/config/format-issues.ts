import type { z } from 'zod';
import { objectKeys, schemaAt } from './introspect.js';
import { displayPath, envVarFor } from './paths.js';
import { closest } from './suggest.js';

type Issue = z.core.$ZodIssue;

export interface IssueContext {
  /** The schema the issues came from (to list the keys an object accepts). */
  readonly schema: z.ZodType;
  /** How to name the file in hints: `horde.config.yaml`, or a generic phrase when there is none. */
  readonly fileLabel: string;
  /** Display path → the environment variable that set it. */
  readonly envSources?: ReadonlyMap<string, string>;
  /** Prefix of every path (e.g. `plugins[0].config`) when the schema is a section of the file. */
  readonly pathPrefix?: readonly PropertyKey[];
  /** Whether to suggest `HORDE_*` variables (not for plugin sections, which env does not reach). */
  readonly envHints?: boolean;
}

/** How a value looks, for "got …" in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a section of settings (an object)',
  array: 'a list',
  record: 'an object',
};

function inputOf(issue: Issue): unknown {
  return (issue as { input?: unknown }).input;
}

/** What is wrong, without the path: `expected a number, got "abc"`. */
function describeIssue(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(inputOf(issue))}`;
    case 'invalid_value':
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(', ')}; got ${describeValue(inputOf(issue))}`;
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      if (issue.origin === 'array') return `must have at least ${min} entries`;
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${min}; got ${describeValue(inputOf(issue))}`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array') return `must have at most ${max} entries`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${max}; got ${describeValue(inputOf(issue))}`;
    }
    case 'invalid_format':
      // Our schemas give their own message for regex formats; zod's default says "Invalid string".
      if (issue.format === 'url') return `expected a URL; got ${describeValue(inputOf(issue))}`;
      return `${issue.message.startsWith('Invalid') ? `expected ${issue.format}` : issue.message}; got ${describeValue(inputOf(issue))}`;
    case 'invalid_union':
      return `${issue.message}; got ${describeValue(inputOf(issue))}`;
    default:
      return issue.message;
  }
}

/**
 * The branch of a failed union the user evidently meant: the only one whose failure is not "this is
 * not even the right type". Null when zero or several branches qualify.
 */
function intendedBranch(issue: z.core.$ZodIssueInvalidUnion): Issue[] | null {
  const candidates = issue.errors.filter(
    (branch) => !branch.some((inner) => inner.path.length === 0 && (inner.code === 'invalid_type' || inner.code === 'unrecognized_keys')),
  );
  return candidates.length === 1 ? (candidates[0] ?? null) : null;
}

function flatten(issues: readonly Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    if (issue.code === 'invalid_union') {
      const branch = intendedBranch(issue);
      if (branch) {
        out.push(...flatten(branch.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue)));
        continue;
      }
    }
    out.push(issue);
  }
  return out;
}

/**
 * One line per problem: `chain.netuid: expected a number, got "abc" (set it in horde.config.yaml
 * or HORDE_CHAIN__NETUID)`. Unknown keys get a "did you mean" and the list of known keys.
 */
export function formatIssues(issues: readonly Issue[], context: IssueContext): string[] {
  const prefix = context.pathPrefix ?? [];
  const envHints = context.envHints ?? true;
  const lines: string[] = [];

  const where = (path: readonly PropertyKey[]): string => {
    const fromEnv = context.envSources && findEnvSource(context.envSources, path);
    if (fromEnv) return ` (set by ${fromEnv})`;
    const variable = envHints ? envVarFor(path) : undefined;
    return variable ? ` (set it in ${context.fileLabel} or ${variable})` : ` (in ${context.fileLabel})`;
  };

  for (const issue of flatten(issues)) {
    if (issue.code === 'unrecognized_keys') {
      const known = objectKeys(schemaAt(context.schema, issue.path) ?? context.schema) ?? [];
      for (const key of issue.keys) {
        const full = [...prefix, ...issue.path, key];
        const guess = closest(key, known);
        const section = issue.path.length || prefix.length ? `in ${displayPath([...prefix, ...issue.path])} ` : '';
        lines.push(
          `${displayPath(full)}: unknown setting${guess ? `; did you mean "${guess}"?` : ''}` +
            ` (known ${section}settings: ${known.join(', ')})`,
        );
      }
      continue;
    }
    const full = [...prefix, ...issue.path];
    const label = full.length ? displayPath(full) : '(top level)';
    lines.push(`${label}: ${describeIssue(issue)}${where(full)}`);
  }
  return lines;
}

/** The variable that set this path or one of its parents (a hotkey variable replaces the whole section). */
function findEnvSource(sources: ReadonlyMap<string, string>, path: readonly PropertyKey[]): string | undefined {
  for (let length = path.length; length > 0; length--) {
    const found = sources.get(displayPath(path.slice(0, length)));
    if (found) return found;
  }
  // A problem on a section as a whole (hotkey: "give one way…") may come from variables below it.
  const here = displayPath(path);
  if (!here) return undefined;
  const below = [...sources.entries()].filter(([key]) => key.startsWith(`${here}.`)).map(([, variable]) => variable);
  return below.length ? below.join(', ') : undefined;
}
