import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { isPathName } from '../plugin/resolve-module.js';
import { DevnetOptionsError } from './errors.js';

/** Defaults of the devnet's flags (`horde devnet --help` prints them). */
export const DEVNET_DEFAULTS = {
  miners: 3,
  executors: 2,
  cycles: 2,
  cheaters: 0,
  dancers: 0,
  farmers: 0,
  blockTimeMs: 100,
  cycleBlocks: 150,
  commitReveal: 'hash',
  validatorWorkers: 1,
} as const;

/** Most validator worker processes the devnet starts (`--validator-workers`): a laptop's worth. */
export const MAX_DEVNET_VALIDATOR_WORKERS = 8;

/**
 * Shortest cycle the devnet accepts, in milliseconds: a batch (executor processes start in about a
 * second, a hash-crack job takes well under one) has to fit in a cycle with room to spare.
 */
export const MIN_CYCLE_MS = 8_000;

/** What `horde devnet` was asked to do, validated, with paths made absolute. */
export interface DevnetOptions {
  readonly miners: number;
  readonly executors: number;
  readonly cycles: number;
  readonly cheaters: number;
  readonly dancers: number;
  /** Miners with one hotkey that claim to dance and move nothing (`--farmers`). */
  readonly farmers: number;
  readonly blockTimeMs: number;
  readonly cycleBlocks: number;
  /** Absolute; null: a new temp dir. */
  readonly dataDir: string | null;
  readonly postgres: string | null;
  readonly docker: boolean;
  /** Absolute path of the JSON summary, or null. */
  readonly json: string | null;
  /** Live view (true), one line per event (false), or null: live view when stdout is a terminal. */
  readonly progress: boolean | null;
  /** Extra plugins for the validator and every miner: package names, or absolute paths. */
  readonly plugins: readonly string[];
  /** Extra plugins for every miner (not the trusted miner); one providing an ExecutorManager replaces the local manager. */
  readonly minerPlugins: readonly string[];
  /** Extra plugins for the validator only (scoring rules, job generators, hardware classes). */
  readonly validatorPlugins: readonly string[];
  /** The TCP ports the processes may listen on (both ends included), or null: any free port. */
  readonly ports: PortRange | null;
  /** `hash`: CR-v2 commits the validator reveals; `timelock`: v4 commits the LocalChain reveals with its beacon. */
  readonly commitReveal: 'hash' | 'timelock';
  /** Serve the devnet's dashboard (and one per process) on 127.0.0.1; its URL is printed. */
  readonly dashboard: boolean;
  /** Port of the devnet's dashboard; 0: a free one. */
  readonly dashboardPort: number;
  /**
   * Validator worker processes sharing the validator's PostgreSQL database (`horde validator
   * --workers N`); 1: the single-process validator. More than 1 needs `postgres`.
   */
  readonly validatorWorkers: number;
}

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** The flags as commander hands them over: strings, booleans, or missing. */
export type RawDevnetOptions = Partial<Record<keyof DevnetOptions, unknown>>;

function wholeNumber(flag: string, min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const n = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value.trim());
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

const text = (flag: string) =>
  z
    .string({ error: `${flag} needs a value` })
    .trim()
    .min(1, { error: `${flag} needs a value` });

const schema = z
  .strictObject({
    miners: wholeNumber('--miners', 1, 64).default(DEVNET_DEFAULTS.miners),
    executors: wholeNumber('--executors', 1, 32).default(DEVNET_DEFAULTS.executors),
    cycles: wholeNumber('--cycles', 1, 1_000).default(DEVNET_DEFAULTS.cycles),
    cheaters: wholeNumber('--cheaters', 0, 64).default(DEVNET_DEFAULTS.cheaters),
    dancers: wholeNumber('--dancers', 0, 64).default(DEVNET_DEFAULTS.dancers),
    farmers: wholeNumber('--farmers', 0, 64).default(DEVNET_DEFAULTS.farmers),
    blockTimeMs: wholeNumber('--block-time-ms', 10, 12_000).default(DEVNET_DEFAULTS.blockTimeMs),
    cycleBlocks: wholeNumber('--cycle-blocks', 20, 100_000).default(DEVNET_DEFAULTS.cycleBlocks),
    dataDir: text('--data-dir').optional(),
    postgres: text('--postgres')
      .regex(/^postgres(ql)?:\/\/[^/\s]+(\/[^/\s?]*)?(\?\S*)?$/, {
        error: '--postgres must be a postgres:// URL, e.g. postgres://postgres@127.0.0.1:5432/horde',
      })
      .optional(),
    docker: z.boolean().default(false),
    json: text('--json').optional(),
    progress: z.boolean().optional(),
    plugins: z.array(text('--plugin')).default([]),
    minerPlugins: z.array(text('--miner-plugin')).default([]),
    validatorPlugins: z.array(text('--validator-plugin')).default([]),
    ports: text('--ports')
      .transform((value, ctx) => {
        const match = /^(\d{1,5})-(\d{1,5})$/.exec(value);
        const range = match ? { from: Number(match[1]), to: Number(match[2]) } : null;
        if (!range || range.from < 1024 || range.to > 65_535 || range.from > range.to) {
          ctx.addIssue({
            code: 'custom',
            message: `--ports must be a range <from>-<to> of ports from 1024 to 65535, e.g. 9000-9099, got ${JSON.stringify(value)}`,
          });
          return z.NEVER;
        }
        return range;
      })
      .optional(),
    commitReveal: z.enum(['hash', 'timelock'], { error: '--commit-reveal must be hash or timelock' }).default(DEVNET_DEFAULTS.commitReveal),
    dashboard: z.boolean().default(false),
    dashboardPort: wholeNumber('--dashboard-port', 0, 65_535).default(0),
    validatorWorkers: wholeNumber('--validator-workers', 1, MAX_DEVNET_VALIDATOR_WORKERS).default(DEVNET_DEFAULTS.validatorWorkers),
  })
  .superRefine((o, ctx) => {
    if (o.cheaters > o.miners) {
      ctx.addIssue({
        code: 'custom',
        message: `--cheaters (${o.cheaters}) is more than --miners (${o.miners}): a cheater is one of the miners`,
      });
    } else if (o.dancers > o.miners) {
      ctx.addIssue({
        code: 'custom',
        message: `--dancers (${o.dancers}) is more than --miners (${o.miners}): a dancer is one of the miners`,
      });
    } else if (o.cheaters + o.dancers > o.miners) {
      ctx.addIssue({
        code: 'custom',
        message: `--cheaters (${o.cheaters}) plus --dancers (${o.dancers}) is more than --miners (${o.miners}): each cheater and each dancer is a different miner`,
      });
    }
    if (o.farmers > 0 && o.cheaters + o.dancers + o.farmers > o.miners) {
      ctx.addIssue({
        code: 'custom',
        message: `--cheaters, --dancers and --farmers (${o.cheaters + o.dancers + o.farmers} in all) are more than --miners (${o.miners}): each is a different miner`,
      });
    }
    // Workers share their batches, leadership and weights through PostgreSQL; SQLite is one process's.
    if (o.validatorWorkers > 1 && o.postgres === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `--validator-workers ${o.validatorWorkers} needs --postgres URL: validator workers share their work through PostgreSQL (the devnet's SQLite stores serve one process each)`,
      });
    }
    // Each worker would serve the validator's dashboard on the same port.
    if (o.validatorWorkers > 1 && (o.dashboard || o.dashboardPort !== 0)) {
      ctx.addIssue({
        code: 'custom',
        message: `--dashboard serves one dashboard per process, and --validator-workers ${o.validatorWorkers} makes the validator several processes: use one or the other`,
      });
    }
    const cycleMs = o.cycleBlocks * o.blockTimeMs;
    if (cycleMs < MIN_CYCLE_MS) {
      ctx.addIssue({
        code: 'custom',
        message: `a cycle of --cycle-blocks ${o.cycleBlocks} × --block-time-ms ${o.blockTimeMs} lasts ${cycleMs} ms; it must last at least ${MIN_CYCLE_MS} ms so a batch fits in it`,
      });
    }
  });

/**
 * Validates the flags of `horde devnet`; throws `DevnetOptionsError` naming every bad flag (exit
 * code 1, before anything starts). Relative paths are resolved against `cwd`.
 */
export function parseDevnetOptions(raw: RawDevnetOptions, cwd: string = process.cwd()): DevnetOptions {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const result = schema.safeParse(defined);
  if (!result.success) {
    const messages = result.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys' ? `unknown option ${issue.keys.join(', ')}` : issue.message,
    );
    throw new DevnetOptionsError(messages.length === 1 ? messages[0]! : `bad flags:\n  ${messages.join('\n  ')}`);
  }
  const o = result.data;
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  return {
    miners: o.miners,
    executors: o.executors,
    cycles: o.cycles,
    cheaters: o.cheaters,
    dancers: o.dancers,
    farmers: o.farmers,
    blockTimeMs: o.blockTimeMs,
    cycleBlocks: o.cycleBlocks,
    dataDir: o.dataDir === undefined ? null : absolute(o.dataDir),
    postgres: o.postgres ?? null,
    docker: o.docker,
    json: o.json === undefined ? null : absolute(o.json),
    progress: o.progress ?? null,
    // A path is made absolute here: the processes read their configs from another directory.
    plugins: o.plugins.map((name) => (isPathName(name) ? absolute(name) : name)),
    minerPlugins: o.minerPlugins.map((name) => (isPathName(name) ? absolute(name) : name)),
    validatorPlugins: o.validatorPlugins.map((name) => (isPathName(name) ? absolute(name) : name)),
    ports: o.ports ?? null,
    commitReveal: o.commitReveal,
    dashboard: o.dashboard || o.dashboardPort !== 0,
    dashboardPort: o.dashboardPort,
    validatorWorkers: o.validatorWorkers,
  };
}
