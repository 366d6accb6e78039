import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import type { DependencyContainer } from 'tsyringe';
import {
  CHAIN,
  CLOCK,
  LOGGER,
  METRICS,
  MULTI_TOKENS,
  OBJECT_STORE,
  PLUGIN_TOKENS,
  STORE,
  tokenName,
  type Logger,
  type Token,
} from '../contracts/index.js';
import { container as globalContainer } from '../container/di.js';
import { CONFIG } from '../container/container.js';
import { constructorTokens, type InjectableClass } from '../container/injection.js';
import { formatIssues } from '../config/format-issues.js';
import type { HordeConfig } from '../config/schema.js';
import type { PluginEntry } from '../config/sections/plugins.js';
import { HordeError } from '../errors.js';
import { silentLogger } from '../logging/index.js';
import { PLUGIN_API_VERSION } from './api-version.js';
import {
  isHordePlugin,
  type Deps,
  type HordePlugin,
  type PluginContext,
  type PluginValidateContext,
  type Provider,
  type Resolve,
  type ResolveAll,
} from './define.js';
import { missingDependencyHint } from './dependency-hints.js';
import { PluginError } from './errors.js';
import { isPathName, resolvePluginModule } from './resolve-module.js';
import { closest } from '../config/suggest.js';
import { SHIPPED_PLUGINS, SHIPPED_SCOPE } from './shipped.js';
import { definedFields } from '../object/defined-fields.js';

/** What `horde plugins list` shows about one loaded plugin. */
export interface PluginInfo {
  readonly name: string;
  readonly version: string;
  readonly apiRange: string;
  readonly description?: string;
  /** The name as written in `plugins` (a package name or a path). */
  readonly source: string;
  /** The file that was imported (absent for plugins handed over as objects). */
  readonly path?: string;
  /** Contracts the plugin provided, in the order it provided them, with how many of each. */
  readonly provides: readonly { readonly contract: string; readonly count: number }[];
}

/** The plugins of one process, after every `register` has run. */
export interface LoadedPlugins {
  /** Loaded plugins in config order. */
  readonly plugins: readonly PluginInfo[];
  /** Names listed with `enabled: false` (not imported). */
  readonly disabled: readonly string[];
  /** The implementation of a single token (ExecutorManager, DancingStrategy, JobRunner, Chain, ObjectStore), if a plugin provided one. */
  single<T>(token: Token<T>): T | undefined;
  /** Every implementation of a token, in config order (for a single token: zero or one). */
  all<T>(token: Token<T>): T[];
  /**
   * Runs every plugin's `validate` hook, in config order; throws one `PluginError`
   * (`HORDE_PLUGIN_VALIDATE_FAILED`) naming each plugin, its entry and every problem it found.
   */
  validate(): Promise<void>;
  /**
   * Calls the `close` of every provider whose implementation was created, newest first; a failing
   * close is logged and the others still run. The process calls it at shutdown, before it closes
   * the store and the chain the implementations may use.
   */
  close(): Promise<void>;
}

/** What the host tells the loader about itself. */
export interface PluginLoadOptions {
  /**
   * Tokens the process registers in the root container after the plugins have registered (the
   * store, chain and object store it opens once the dependency check has passed): declared
   * dependencies on them are satisfied. Tokens already in the root count without being listed.
   */
  readonly infrastructure?: readonly symbol[];
}

/** A plugin ready to register: what `loadPlugins` imports, or an object handed over directly. */
export interface PluginToRegister {
  readonly plugin: HordePlugin<unknown> | unknown;
  /** Name as written in config (defaults to the plugin's name). */
  readonly source?: string;
  /** Imported file, for `horde plugins list`. */
  readonly path?: string;
  /** The plugin's raw config section (validated here with its `configSchema`). */
  readonly config?: Record<string, unknown>;
}

export type PluginHostConfig = Pick<HordeConfig, 'plugins' | 'dataDir' | 'baseDir' | 'configFile'>;

interface Registration {
  readonly plugin: string;
  readonly token: symbol;
  readonly provider: Provider<unknown>;
  readonly container: DependencyContainer;
  instance?: { value: unknown };
}

const isMulti = (token: symbol) => MULTI_TOKENS.includes(token);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `plugins[2] in horde.config.yaml`, for pointing at the entry to fix. */
function entryLabel(index: number, config: Pick<PluginHostConfig, 'configFile'>): string {
  return `plugins[${index}] in ${config.configFile ? basename(config.configFile) : 'the config'}`;
}

/** Imports every enabled plugin named in `config.plugins`, then registers them (see `registerPlugins`). */
export async function loadPlugins(
  config: PluginHostConfig,
  root: DependencyContainer,
  options: PluginLoadOptions = {},
): Promise<LoadedPlugins> {
  const toRegister: PluginToRegister[] = [];
  const disabled: string[] = [];
  for (const [index, entry] of config.plugins.entries()) {
    if (!entry.enabled) {
      disabled.push(entry.name);
      continue;
    }
    toRegister.push(await importPlugin(entry, index, config));
  }
  const loaded = await registerPlugins(toRegister, root, config, options);
  return { ...loaded, disabled };
}

/**
 * The infrastructure a role process registers for its plugins: the root container's services, the
 * store and chain it opens, and the object store when `objectStore.endpoint` is set. What
 * `checkPluginDependencies` and `horde config check` count as there.
 */
export function roleInfrastructure(config: Pick<HordeConfig, 'objectStore'>): symbol[] {
  return [CONFIG, LOGGER, METRICS, CLOCK, STORE, CHAIN, ...(config.objectStore.endpoint ? [OBJECT_STORE] : [])];
}

/**
 * Imports and registers the config's plugins into a scratch container and checks every declared
 * dependency against what they provide and `infrastructure`, creating no implementation and
 * opening nothing: a role calls it before it opens its store and chain, so a missing contract is
 * a `HORDE_PLUGIN_DEPENDENCY_MISSING` at once, not a failure at the first resolve.
 */
export async function checkPluginDependencies(config: PluginHostConfig, infrastructure: readonly symbol[]): Promise<void> {
  await loadPlugins(config, globalContainer.createChildContainer(), { infrastructure });
}

/** What to do about a name that resolves to nothing: fix the path, fix a typo of a shipped plugin, or install it. */
function notFoundFix(name: string): string {
  if (isPathName(name)) return " Fix the path (relative paths are relative to the config file's directory).";
  const suggestion = closest(name, SHIPPED_PLUGINS);
  if (suggestion && suggestion !== name) return ` Did you mean "${suggestion}"?`;
  // Every @horde/ package is shipped with horde: an unknown one is a typo, never something to install.
  if (name.startsWith(SHIPPED_SCOPE)) return ` The shipped plugins are: ${SHIPPED_PLUGINS.join(', ')}.`;
  return ` Install it (npm install ${name}) or fix the name.`;
}

/** TypeScript sources Node cannot import: the plugin must be built and its `dist/index.js` named instead. */
const TYPESCRIPT_SOURCE = /\.(c|m)?tsx?$/;

async function importPlugin(entry: PluginEntry, index: number, config: PluginHostConfig): Promise<PluginToRegister> {
  const where = entryLabel(index, config);
  const location = resolvePluginModule(entry.name, config.baseDir);
  if (!location.found) {
    const fix = location.broken ? '' : notFoundFix(entry.name);
    throw new PluginError('HORDE_PLUGIN_NOT_FOUND', entry.name, `Plugin "${entry.name}" (${where}) not found: ${location.reason}.${fix}`);
  }
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(location.path).href)) as { default?: unknown };
  } catch (error) {
    // Node (without a TypeScript loader: test runners have one) cannot import .ts files.
    if (TYPESCRIPT_SOURCE.test(location.path) && (error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new PluginError(
        'HORDE_PLUGIN_NOT_BUILT',
        entry.name,
        `Plugin "${entry.name}" (${where}) is TypeScript source (${location.path}), which Node cannot import. ` +
          `Build the plugin (npm run build in its package) and name the built file instead, e.g. ./dist/index.js, or the package directory whose package.json points at it.`,
        { cause: error },
      );
    }
    throw new PluginError(
      'HORDE_PLUGIN_IMPORT_FAILED',
      entry.name,
      `Plugin "${entry.name}" (${where}) failed to load from ${location.path}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return { plugin: module.default, source: entry.name, path: location.path, ...definedFields({ config: entry.config }) };
}

/** Checks a default export is a complete plugin whose API range fits this core. */
function checkDefinition(candidate: unknown, source: string, where: string): HordePlugin<unknown> {
  if (!isHordePlugin(candidate)) {
    throw new PluginError(
      'HORDE_PLUGIN_INVALID',
      source,
      `Plugin "${source}" (${where}) does not default-export a plugin. The module must end with \`export default definePlugin({ ... })\` (definePlugin from @horde/core).`,
    );
  }
  const plugin = candidate;
  const invalid = (field: string, problem: string) =>
    new PluginError(
      'HORDE_PLUGIN_INVALID',
      plugin.name || source,
      `Plugin "${plugin.name || source}" (${where}) has an invalid ${field}: ${problem}.`,
    );
  if (typeof plugin.name !== 'string' || !plugin.name) throw invalid('name', 'it must be a non-empty string');
  if (typeof plugin.version !== 'string' || !semver.valid(plugin.version))
    throw invalid('version', `${JSON.stringify(plugin.version)} is not a semver version such as 1.0.0`);
  if (typeof plugin.apiRange !== 'string' || !semver.validRange(plugin.apiRange))
    throw invalid('apiRange', `${JSON.stringify(plugin.apiRange)} is not a semver range such as ^1.0.0`);
  if (typeof plugin.register !== 'function') throw invalid('register', 'it must be a function (ctx) => void');
  if (!Array.isArray(plugin.provides))
    throw invalid('provides', 'it must list the contract tokens the plugin provides, e.g. [HARDWARE_CLASS]');
  for (const token of plugin.provides) {
    if (typeof token !== 'symbol' || !PLUGIN_TOKENS.includes(token)) {
      const label = typeof token === 'symbol' ? tokenName(token) : String(token);
      throw new PluginError(
        'HORDE_PLUGIN_TOKEN_NOT_ALLOWED',
        plugin.name,
        `Plugin "${plugin.name}" (${where}) declares that it provides ${label}, which plugins cannot provide. Plugins may provide: ${PLUGIN_TOKENS.map(tokenName).join(', ')}.`,
      );
    }
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, plugin.apiRange, { includePrerelease: true })) {
    throw new PluginError(
      'HORDE_PLUGIN_API_MISMATCH',
      plugin.name,
      `Plugin "${plugin.name}" ${plugin.version} (${where}) requires plugin API ${plugin.apiRange}, but this @horde/core provides plugin API ${PLUGIN_API_VERSION}. ` +
        `Install a version of "${plugin.name}" made for plugin API ${semver.major(PLUGIN_API_VERSION)}.x, or a @horde/core whose plugin API is in ${plugin.apiRange}.`,
    );
  }
  return plugin;
}

function validateConfig(
  plugin: HordePlugin<unknown>,
  raw: Record<string, unknown> | undefined,
  index: number,
  config: Pick<PluginHostConfig, 'configFile'>,
): unknown {
  const where = entryLabel(index, config);
  if (!plugin.configSchema) {
    if (raw && Object.keys(raw).length) {
      throw new PluginError(
        'HORDE_PLUGIN_CONFIG_INVALID',
        plugin.name,
        `Plugin "${plugin.name}" (${where}) takes no config, but plugins[${index}].config sets ${Object.keys(raw).join(', ')}. Remove plugins[${index}].config.`,
      );
    }
    return {};
  }
  const result = plugin.configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const lines = formatIssues(result.error.issues, {
    schema: plugin.configSchema,
    fileLabel: config.configFile ? basename(config.configFile) : 'the config',
    pathPrefix: ['plugins', index, 'config'],
    envHints: false,
  });
  throw new PluginError(
    'HORDE_PLUGIN_CONFIG_INVALID',
    plugin.name,
    `Plugin "${plugin.name}" (${where}) has an invalid config:\n${lines.map((line) => `  - ${line}`).join('\n')}`,
  );
}

/** `@horde/plugin-x` → `horde__plugin-x`: a directory name that cannot escape `<dataDir>/plugins`. */
function dataDirName(name: string): string {
  return name
    .replace(/^@/, '')
    .replace(/[^a-zA-Z0-9._-]+/g, '__')
    .replace(/^\.+/, '_');
}

/** A plugin whose definition and config section passed every check, ready to register. */
interface CheckedPlugin {
  readonly plugin: HordePlugin<unknown>;
  /** Its config section, parsed by its `configSchema`. */
  readonly config: unknown;
  readonly item: PluginToRegister;
  readonly index: number;
}

/** A plugin's `validate` hook with the context it runs in. */
interface PluginValidator {
  readonly plugin: HordePlugin<unknown>;
  readonly ctx: PluginValidateContext<unknown>;
  readonly where: string;
}

/** Definitions, API ranges, duplicate names, two providers of a single token, config sections: all before any `register`. */
function checkPlugins(plugins: readonly PluginToRegister[], config: Pick<PluginHostConfig, 'configFile'>): CheckedPlugin[] {
  const checked: CheckedPlugin[] = [];
  const names = new Map<string, number>();
  const singleOwners = new Map<symbol, string>();
  for (const [index, item] of plugins.entries()) {
    const source = item.source ?? (isHordePlugin(item.plugin) ? item.plugin.name : `plugins[${index}]`);
    const plugin = checkDefinition(item.plugin, source, entryLabel(index, config));
    const earlier = names.get(plugin.name);
    if (earlier !== undefined) {
      throw new PluginError(
        'HORDE_PLUGIN_DUPLICATE',
        plugin.name,
        `Plugin "${plugin.name}" is listed twice (plugins[${earlier}] and plugins[${index}]). Keep one entry.`,
      );
    }
    names.set(plugin.name, index);
    for (const token of plugin.provides) {
      if (isMulti(token)) continue;
      const owner = singleOwners.get(token);
      if (owner !== undefined) {
        throw new PluginError(
          'HORDE_PLUGIN_CONFLICT',
          plugin.name,
          `Plugins "${owner}" and "${plugin.name}" both provide ${tokenName(token)}, and a horde process uses exactly one ${tokenName(token)}. ` +
            `Remove one of them from plugins (or set enabled: false on it).`,
        );
      }
      singleOwners.set(token, plugin.name);
    }
    checked.push({ plugin, config: validateConfig(plugin, item.config, index, config), item, index });
  }
  return checked;
}

/** What `ctx.provide` refuses: a token plugins cannot provide or this one did not declare, a second single, a malformed provider. */
function checkProvide(plugin: HordePlugin<unknown>, token: symbol, provider: unknown, own: readonly Registration[]): void {
  if (!PLUGIN_TOKENS.includes(token)) {
    throw new PluginError(
      'HORDE_PLUGIN_TOKEN_NOT_ALLOWED',
      plugin.name,
      `Plugin "${plugin.name}" tried to provide ${tokenName(token)}, which plugins cannot provide. Plugins may provide: ${PLUGIN_TOKENS.map(tokenName).join(', ')}. ` +
        `Register private services with ctx.container instead.`,
    );
  }
  if (!plugin.provides.includes(token)) {
    throw new PluginError(
      'HORDE_PLUGIN_TOKEN_NOT_ALLOWED',
      plugin.name,
      `Plugin "${plugin.name}" provides ${tokenName(token)} without declaring it; add the token to provides in its definePlugin({ provides: [...] }).`,
    );
  }
  if (!isMulti(token) && own.some((registration) => registration.token === token)) {
    throw new PluginError(
      'HORDE_PLUGIN_CONFLICT',
      plugin.name,
      `Plugin "${plugin.name}" provides ${tokenName(token)} twice; a process uses exactly one.`,
    );
  }
  const shape = typeof provider === 'object' && provider !== null ? (provider as Record<string, unknown>) : {};
  const kinds = [
    'useValue' in shape,
    typeof shape['useFactory'] === 'function',
    typeof shape['useClass'] === 'function',
    typeof shape['factory'] === 'function' && typeof shape['deps'] === 'object' && shape['deps'] !== null,
  ].filter(Boolean).length;
  if (kinds !== 1) {
    throw new PluginError(
      'HORDE_PLUGIN_INVALID',
      plugin.name,
      `Plugin "${plugin.name}" provided ${tokenName(token)} with ${kinds === 0 ? 'none' : 'more than one'} of useValue, useFactory, useClass and { deps, factory }; give exactly one.`,
    );
  }
  if (typeof shape['useClass'] === 'function') {
    const target = shape['useClass'] as InjectableClass<unknown>;
    const missing = constructorTokens(target).findIndex((dep) => dep === undefined);
    if (missing >= 0) {
      throw new PluginError(
        'HORDE_PLUGIN_INVALID',
        plugin.name,
        `Plugin "${plugin.name}" provides ${tokenName(token)} with class ${target.name || '(anonymous)'}, whose constructor parameter ${missing} has no @inject(TOKEN). ` +
          `Name every parameter's token with @inject from @horde/core (horde emits no design types, so the parameter would be undefined).`,
      );
    }
  }
  if ('factory' in shape) {
    for (const [name, dep] of Object.entries(shape['deps'] as Record<string, unknown>)) {
      if (typeof dep !== 'symbol') {
        throw new PluginError(
          'HORDE_PLUGIN_INVALID',
          plugin.name,
          `Plugin "${plugin.name}" declares deps.${name} of its ${tokenName(token)} as something that is not a token; use one of core's tokens (STORE, OBJECT_STORE, …).`,
        );
      }
    }
  }
}

/**
 * Runs one plugin's `register` in its own child container of `root`, collecting what it provides
 * (`ctx.provide` is open only while `register` runs). Returns its registrations, what
 * `horde plugins list` shows about it and its `validate` hook.
 */
async function registerOne(
  { plugin, config: pluginConfig, item, index }: CheckedPlugin,
  root: DependencyContainer,
  config: Pick<PluginHostConfig, 'dataDir' | 'configFile'>,
  logger: Logger,
): Promise<{ own: Registration[]; info: PluginInfo; validator: PluginValidator | null }> {
  const child = root.createChildContainer();
  const own: Registration[] = [];
  let open = true;
  const ctx: PluginContext<unknown> = {
    name: plugin.name,
    config: pluginConfig,
    logger: logger.child({ plugin: plugin.name }),
    dataDir: join(config.dataDir, 'plugins', dataDirName(plugin.name)),
    container: child,
    provide(token, provider) {
      if (!open) {
        throw new PluginError(
          'HORDE_PLUGIN_REGISTER_FAILED',
          plugin.name,
          `Plugin "${plugin.name}" called ctx.provide after register finished; provide everything inside register (await before returning).`,
        );
      }
      checkProvide(plugin, token, provider, own);
      own.push({ plugin: plugin.name, token, provider: provider as Provider<unknown>, container: child });
    },
    resolve: resolverFor(child, plugin.name),
    resolveAll: allResolverFor(child),
  };
  try {
    await plugin.register(ctx);
  } catch (error) {
    if (error instanceof PluginError) throw error;
    const code = error instanceof HordeError ? ` [${error.code}]` : '';
    throw new PluginError(
      'HORDE_PLUGIN_REGISTER_FAILED',
      plugin.name,
      `Plugin "${plugin.name}" (${entryLabel(index, config)}) failed in register${code}: ${messageOf(error)}`,
      { cause: error },
    );
  } finally {
    open = false;
  }
  const validator: PluginValidator | null = plugin.validate
    ? {
        plugin,
        where: entryLabel(index, config),
        ctx: {
          name: plugin.name,
          config: pluginConfig,
          logger: ctx.logger,
          dataDir: ctx.dataDir,
          resolveAll: <T>(token: Token<T>) => root.resolveAll(token) as T[],
        },
      }
    : null;
  const info: PluginInfo = {
    name: plugin.name,
    version: plugin.version,
    apiRange: plugin.apiRange,
    ...(plugin.description ? { description: plugin.description } : {}),
    source: item.source ?? plugin.name,
    ...(item.path ? { path: item.path } : {}),
    provides: countByToken(own),
  };
  logger.debug({ plugin: plugin.name, version: plugin.version, provides: info.provides }, 'plugin registered');
  return { own, info, validator };
}

/** Creates a registration's implementation on first use (once), keeping the order of creation for `close`. */
class Implementations {
  /** Newest last: `closeAll` walks it backwards. */
  readonly #created: Registration[] = [];

  get(registration: Registration): unknown {
    if (registration.instance) return registration.instance.value;
    const { provider } = registration;
    let value: unknown;
    if ('useValue' in provider) value = provider.useValue;
    else {
      try {
        if ('useClass' in provider) value = registration.container.resolve(provider.useClass);
        else
          value =
            'factory' in provider
              ? provider.factory(resolveDeps(provider.deps, registration.container, registration.plugin))
              : provider.useFactory(resolverFor(registration.container, registration.plugin), allResolverFor(registration.container));
      } catch (error) {
        if (error instanceof PluginError) throw error;
        throw new PluginError(
          'HORDE_PLUGIN_FACTORY_FAILED',
          registration.plugin,
          `Plugin "${registration.plugin}" failed to create its ${tokenName(registration.token)}: ${messageOf(error)}`,
          { cause: error },
        );
      }
    }
    registration.instance = { value };
    this.#created.push(registration);
    return value;
  }

  /** The `close` of every created implementation, newest first; a failing one is logged and the rest still run. */
  async closeAll(logger: Logger): Promise<void> {
    for (const registration of this.#created.splice(0).reverse()) {
      const { close } = registration.provider;
      if (!close || !registration.instance) continue;
      try {
        await (close as (instance: unknown) => void | Promise<void>)(registration.instance.value);
      } catch (error) {
        logger.error({ plugin: registration.plugin, contract: tokenName(registration.token), err: error }, 'plugin close failed');
      }
    }
  }
}

/**
 * Validates and registers plugins, in order, each in its own child container of `root`:
 * every definition, API range, config section and single-token conflict is checked before any
 * `register` runs (`checkPlugins`), so a bad config fails before a plugin has done anything. Then
 * each registers (`registerOne`), the declared dependencies are checked (`checkDependencies`), and
 * the provided contracts are registered in `root` (single tokens once, multi tokens in order), so
 * the runtime and other plugins' factories resolve them with `resolve`/`resolveAll`.
 */
export async function registerPlugins(
  plugins: readonly PluginToRegister[],
  root: DependencyContainer,
  config: Pick<PluginHostConfig, 'dataDir' | 'configFile'>,
  options: PluginLoadOptions = {},
): Promise<Omit<LoadedPlugins, 'disabled'>> {
  const logger: Logger = root.isRegistered(LOGGER, true) ? root.resolve(LOGGER) : silentLogger();
  const checked = checkPlugins(plugins, config);

  const registrations: Registration[] = [];
  const validators: PluginValidator[] = [];
  const infos: PluginInfo[] = [];
  for (const plugin of checked) {
    const { own, info, validator } = await registerOne(plugin, root, config, logger);
    registrations.push(...own);
    infos.push(info);
    if (validator) validators.push(validator);
  }

  checkDependencies(
    registrations,
    checked.map(({ plugin }) => plugin),
    options.infrastructure ?? [],
  );

  // Offer the contracts to the runtime and to every plugin's factories.
  const implementations = new Implementations();
  for (const registration of registrations) {
    root.register(registration.token, { useFactory: () => implementations.get(registration) });
  }

  const forToken = (token: symbol) => registrations.filter((registration) => registration.token === token);
  return {
    plugins: infos,
    single<T>(token: Token<T>): T | undefined {
      if (isMulti(token)) {
        throw new PluginError(
          'HORDE_PLUGIN_RESOLVE_FAILED',
          tokenName(token),
          `${tokenName(token)} can have several providers; use all() instead of single().`,
        );
      }
      const [registration] = forToken(token);
      return registration ? (implementations.get(registration) as T) : undefined;
    },
    all<T>(token: Token<T>): T[] {
      return forToken(token).map((registration) => implementations.get(registration) as T);
    },
    validate: () => runValidators(validators, root),
    close: () => implementations.closeAll(logger),
  };
}

/**
 * Every declared dependency (`deps` of a provider, `@inject` tokens of a `useClass`) must be there
 * when the process runs: provided by a plugin, already in the plugin's container or the root, or
 * infrastructure the host registers next. Checked
 * once all plugins have registered and before anything is instantiated or opened.
 */
function checkDependencies(
  registrations: readonly Registration[],
  plugins: readonly HordePlugin<unknown>[],
  infrastructure: readonly symbol[],
): void {
  const provided = new Set<symbol>([...registrations.map((registration) => registration.token), ...infrastructure]);
  for (const registration of registrations) {
    for (const [label, token] of declaredDependencies(registration.provider)) {
      // A class token is built by tsyringe itself; a private service counts when the plugin's own container has it.
      // The plugin's container looks in the root's too, where the process's infrastructure already is.
      if (typeof token === 'function' || provided.has(token as symbol) || registration.container.isRegistered(token as symbol, true))
        continue;
      throw new PluginError(
        'HORDE_PLUGIN_DEPENDENCY_MISSING',
        registration.plugin,
        `Plugin "${registration.plugin}" needs ${tokenName(token as symbol)} (${label} of its ${tokenName(registration.token)}), which nothing in this process provides. ` +
          missingDependencyHint(
            token as symbol,
            plugins.map((plugin) => plugin.name),
          ),
      );
    }
  }
}

/** A provider's declared dependencies, labelled for messages: `deps.store`, or a class's `constructor parameter 0`. */
function declaredDependencies(provider: Provider<unknown>): [label: string, token: unknown][] {
  if ('factory' in provider) return Object.entries(provider.deps as Deps).map(([name, token]) => [`deps.${name}`, token]);
  if ('useClass' in provider) return constructorTokens(provider.useClass).map((token, index) => [`constructor parameter ${index}`, token]);
  return [];
}

/** The implementations behind a provider's `deps`, by name (checked by `checkDependencies` beforehand). */
function resolveDeps(deps: Deps, container: DependencyContainer, plugin: string): Record<string, unknown> {
  const resolve = resolverFor(container, plugin);
  return Object.fromEntries(Object.entries(deps).map(([name, token]) => [name, resolve(token)]));
}

/** Every plugin's `validate`, all of them run, their problems reported together. */
async function runValidators(validators: readonly PluginValidator[], root: DependencyContainer): Promise<void> {
  const logger: Logger = root.isRegistered(LOGGER, true) ? root.resolve(LOGGER) : silentLogger();
  const reports: string[] = [];
  for (const { plugin, ctx, where } of validators) {
    let problems: readonly string[];
    try {
      problems = (await plugin.validate!(ctx)) ?? [];
    } catch (error) {
      problems = [`validate threw: ${messageOf(error)}`];
    }
    if (problems.length === 0) continue;
    logger.error({ plugin: plugin.name, problems }, 'plugin config check failed');
    reports.push(
      `Plugin "${plugin.name}" (${where}) found ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  if (reports.length > 0) throw new PluginError('HORDE_PLUGIN_VALIDATE_FAILED', validators[0]!.plugin.name, reports.join('\n'));
}

/** `resolve` for a plugin: its container, then the root's; a clear error when nobody registered the token. */
function resolverFor(container: DependencyContainer, plugin: string): Resolve {
  return <T>(token: Token<T>): T => {
    if (!container.isRegistered(token, true)) {
      throw new PluginError(
        'HORDE_PLUGIN_RESOLVE_FAILED',
        plugin,
        `Plugin "${plugin}" asked for ${tokenName(token)}, which this process does not have. ` +
          `Infrastructure (Store, Chain, ObjectStore) exists only in processes that run a role, and other plugins' contracts only after every plugin registered: resolve them inside a useFactory, not in register.`,
      );
    }
    return container.resolve(token);
  };
}

function allResolverFor(container: DependencyContainer): ResolveAll {
  return <T>(token: Token<T>): T[] => (container.isRegistered(token, true) ? container.resolveAll(token) : []);
}

function countByToken(registrations: readonly Registration[]): { contract: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const registration of registrations) {
    const contract = tokenName(registration.token);
    counts.set(contract, (counts.get(contract) ?? 0) + 1);
  }
  return [...counts.entries()].map(([contract, count]) => ({ contract, count }));
}
