import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { applyEnvOverrides, readEnvOverrides } from './env.js';
import { ConfigError } from './errors.js';
import { formatIssues } from './format-issues.js';
import { hordeConfigSchema, type ConfigOrigin, type HordeConfig } from './schema.js';
import { loadTypeScriptConfig } from './ts-loader.js';

const MODULE_NAME = 'horde';

/** Where cosmiconfig looks, in this order, in the directory it searches. */
export const CONFIG_SEARCH_PLACES = [
  'package.json',
  '.hordrc',
  '.hordrc.json',
  '.hordrc.yaml',
  '.hordrc.yml',
  '.hordrc.js',
  '.hordrc.mjs',
  'horde.config.ts',
  'horde.config.js',
  'horde.config.mjs',
  'horde.config.cjs',
  'horde.config.json',
  'horde.config.yaml',
  'horde.config.yml',
] as const;

export interface LoadConfigOptions {
  /** A config file to use instead of searching; relative to `cwd`. `HORDE_CONFIG` is the fallback. */
  readonly configPath?: string;
  /** Directory to search for a config file (default: the working directory). */
  readonly cwd?: string;
  /** Environment for `HORDE_*` overrides (default: `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ParseConfigOptions {
  readonly configFile?: string | null;
  /** Directory relative paths are resolved against (default: the config file's, else the working directory). */
  readonly baseDir?: string;
  /** `HORDE_*` overrides to apply (default: none, so parsing a literal is not affected by the environment). */
  readonly env?: NodeJS.ProcessEnv;
}

async function explorer() {
  const { cosmiconfig, defaultLoaders } = await import('cosmiconfig');
  return cosmiconfig(MODULE_NAME, {
    searchPlaces: [...CONFIG_SEARCH_PLACES],
    searchStrategy: 'none',
    cache: false,
    loaders: { ...defaultLoaders, '.ts': loadTypeScriptConfig },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Finds, reads and validates the config: `configPath` (or `HORDE_CONFIG`) when given, otherwise
 * the first of `CONFIG_SEARCH_PLACES` in `cwd`; no file at all means every default. `HORDE_*`
 * variables override the file. Throws `ConfigError` listing every problem at once.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<HordeConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const explicit = options.configPath ?? env['HORDE_CONFIG'];
  const configExplorer = await explorer();

  let raw: unknown = {};
  let configFile: string | null = null;
  if (explicit) {
    configFile = resolve(cwd, explicit);
    if (!existsSync(configFile)) {
      const from = options.configPath ? '--config' : 'HORDE_CONFIG';
      throw new ConfigError('HORDE_CONFIG_NOT_FOUND', `Config file not found: ${configFile} (from ${from})`);
    }
    try {
      raw = (await configExplorer.load(configFile))?.config ?? {};
    } catch (error) {
      throw new ConfigError('HORDE_CONFIG_LOAD_FAILED', `Cannot read config file ${configFile}: ${messageOf(error)}`, [], { cause: error });
    }
  } else {
    try {
      const found = await configExplorer.search(cwd);
      if (found) {
        configFile = found.filepath;
        raw = found.config ?? {};
      }
    } catch (error) {
      throw new ConfigError('HORDE_CONFIG_LOAD_FAILED', `Cannot read the config file in ${cwd}: ${messageOf(error)}`, [], { cause: error });
    }
  }
  return parseConfig(raw, { configFile, baseDir: configFile ? dirname(configFile) : cwd, env });
}

/**
 * Validates a config object (what a config file holds) and fills in every default; the in-process
 * equivalent of `loadConfig` for tests and embedding.
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): HordeConfig {
  const configFile = options.configFile ?? null;
  const baseDir = resolve(options.baseDir ?? (configFile ? dirname(configFile) : process.cwd()));
  const fileLabel = configFile ? basename(configFile) : 'horde.config.yaml';
  const header = configFile ? `Invalid config ${configFile}:` : 'Invalid config:';

  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError('HORDE_CONFIG_INVALID', header, [
      `(top level): expected a section of settings (an object), got ${Array.isArray(input) ? 'a list' : typeof input}`,
    ]);
  }
  const overrides = readEnvOverrides(options.env ?? {}, hordeConfigSchema);
  const merged = applyEnvOverrides(input as Record<string, unknown>, overrides);
  const result = hordeConfigSchema.safeParse(merged, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      'HORDE_CONFIG_INVALID',
      header,
      formatIssues(result.error.issues, { schema: hordeConfigSchema, fileLabel, envSources: overrides.sources }),
    );
  }
  return resolvePaths(result.data, { configFile, baseDir });
}

/** `~` and `~/x` → the home directory. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

function absolute(baseDir: string, path: string): string {
  const expanded = expandHome(path);
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}

/** A store section with its SQLite file made absolute (`defaultFile` when it names none). */
function resolveStore<S extends HordeConfig['store']>(store: S, baseDir: string, defaultFile: string): S {
  if (store.client !== 'sqlite') return store;
  const filename = store.filename === ':memory:' ? ':memory:' : store.filename ? absolute(baseDir, store.filename) : defaultFile;
  return { ...store, filename };
}

/** The collateral trustee's EVM key file, relative to the config file like every path. */
function resolveCollateralKey<V extends HordeConfig['validator']>(validator: V, baseDir: string): V {
  const file = validator.collateral.evmKeyFile;
  return file ? { ...validator, collateral: { ...validator.collateral, evmKeyFile: absolute(baseDir, file) } } : validator;
}

function resolvePaths(config: Omit<HordeConfig, keyof ConfigOrigin>, origin: ConfigOrigin): HordeConfig {
  const dataDir = absolute(origin.baseDir, config.dataDir);
  const { hotkey } = config;
  const store = resolveStore(config.store, origin.baseDir, join(dataDir, 'horde.sqlite'));
  const chainStore = config.chain.local.store;
  const chain = chainStore
    ? { ...config.chain, local: { ...config.chain.local, store: resolveStore(chainStore, origin.baseDir, join(dataDir, 'chain.sqlite')) } }
    : config.chain;
  return {
    ...config,
    dataDir,
    store,
    chain,
    hotkey:
      'file' in hotkey
        ? { file: absolute(origin.baseDir, hotkey.file) }
        : 'wallet' in hotkey && hotkey.walletsDir !== undefined
          ? { ...hotkey, walletsDir: absolute(origin.baseDir, hotkey.walletsDir) }
          : hotkey,
    log: config.log.file ? { ...config.log, file: absolute(origin.baseDir, config.log.file) } : config.log,
    validator: resolveCollateralKey(config.validator, origin.baseDir),
    configFile: origin.configFile,
    baseDir: origin.baseDir,
  };
}
