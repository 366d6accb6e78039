import type { DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import type { Logger, Token } from '../contracts/index.js';
import type { InjectableClass } from '../container/injection.js';

/** Resolves one implementation of a token (the last registered one). */
export type Resolve = <T>(token: Token<T>) => T;
/** Resolves every implementation of a multi token, in config order. */
export type ResolveAll = <T>(token: Token<T>) => T[];

/**
 * How a plugin provides an implementation: a ready value, or a factory called once, the first
 * time someone resolves the token. Factories are how a plugin reaches infrastructure (store,
 * chain, object store) and other plugins' contracts: those are there when the runtime starts, not
 * necessarily while `register` runs (`horde plugins list` registers plugins with no store at all).
 */
export type Provider<T, D extends Deps = Deps> =
  | { readonly useValue: T; readonly close?: (instance: T) => void | Promise<void> }
  | { readonly useFactory: (resolve: Resolve, resolveAll: ResolveAll) => T; readonly close?: (instance: T) => void | Promise<void> }
  | TypedProvider<T, D>
  | ClassProvider<T>;

/**
 * A class the plugin's tsyringe container builds, the first time the token is resolved: every
 * constructor parameter is named with `@inject(TOKEN)` (from `@horde/core`) and the class is
 * `@injectable()`. The tokens are checked like `deps` before anything opens; a parameter without
 * `@inject` is refused at `provide` (horde emits no design types, so it would get `undefined`). A
 * token may be infrastructure, another plugin's contract, or a private service registered in
 * `ctx.container`.
 */
export interface ClassProvider<T> {
  readonly useClass: InjectableClass<T>;
  readonly close?: (instance: T) => void | Promise<void>;
}

/** What a provider needs, by name: `{ store: STORE, objects: OBJECT_STORE }`. */
export type Deps = Readonly<Record<string, Token<unknown>>>;

/** The implementations behind a `Deps` object, typed from its tokens: `{ store: Store, objects: ObjectStore }`. */
export type ResolvedDeps<D extends Deps> = { readonly [K in keyof D]: D[K] extends Token<infer T> ? T : never };

/**
 * A factory with declared dependencies (Backstage's `deps` and `factory`). The loader checks, once every plugin
 * has registered and before the process opens its store or chain, that each token will be there
 * (another plugin provides it, or the process registers it), and fails naming the plugin, the
 * contract and where it would come from; at the first resolve the factory gets them typed.
 * `close` (any provider's) is called with the instance when the process shuts down, in reverse
 * order of creation, for implementations that open things (connections, timers, files).
 */
export interface TypedProvider<T, D extends Deps> {
  readonly deps: D;
  readonly factory: (deps: ResolvedDeps<D>) => T;
  readonly close?: (instance: T) => void | Promise<void>;
}

/** What a plugin's `register` gets. */
export interface PluginContext<Config> {
  /** The plugin's own name (from `definePlugin`). */
  readonly name: string;
  /** The plugin's config section (`plugins[i].config`), validated by `configSchema`; `{}` without one. */
  readonly config: Config;
  /** The process logger bound to `{ plugin: name }`. */
  readonly logger: Logger;
  /**
   * A directory reserved for this plugin's files (`<dataDir>/plugins/<name>`). Not created
   * beforehand: create it when you first write to it.
   */
  readonly dataDir: string;
  /**
   * This plugin's own tsyringe child container, for its private services (classes with
   * `@inject`, helpers its factories share). Nothing registered here is visible to other plugins
   * or to the runtime; contracts are offered to them with `provide` only.
   */
  readonly container: DependencyContainer;
  /**
   * Offers an implementation of a contract token listed in `provides` (one of `PLUGIN_TOKENS`).
   * Multi tokens (JobGenerator, HardwareClass, ScoringRule) may be provided several times; the
   * runtime sees them in config order, then in the order of the `provide` calls. Throws
   * `PluginError` for a token the plugin may not provide or did not declare.
   */
  provide<T, D extends Deps = Deps>(token: Token<T>, provider: Provider<T, D>): void;
  /**
   * Resolves from this plugin's container: its private registrations first, then the runtime's
   * infrastructure (LOGGER, METRICS, CLOCK, and STORE, CHAIN, OBJECT_STORE where the process has
   * them). Throws `PluginError` (`HORDE_PLUGIN_RESOLVE_FAILED`) when nothing is registered for the token.
   */
  resolve<T>(token: Token<T>): T;
  /** Every registration of a token (private first, then the runtime's). */
  resolveAll<T>(token: Token<T>): T[];
}

/**
 * What a plugin's `validate` gets: its validated config, and every contract the process's plugins
 * provide (all of them have registered by then), so it can check what only the whole process shows
 * (a class no hardware-class plugin provides, a file that is missing, …).
 */
export interface PluginValidateContext<Config> {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly dataDir: string;
  /** Every implementation of a contract token, in config order (any plugin's, this one's included). */
  resolveAll<T>(token: Token<T>): T[];
}

/** What a plugin declares. `definePlugin` checks nothing; the loader checks everything. */
export interface PluginDefinition<Config> {
  /** Unique name, normally the package name (`@horde/plugin-hardware-classes`). */
  readonly name: string;
  /** The plugin's own version (semver), shown by `horde plugins list`. */
  readonly version: string;
  /** Semver range of `PLUGIN_API_VERSION` values the plugin works with, e.g. `^1.0.0`. */
  readonly apiRange: string;
  /** One line for `horde plugins list`. */
  readonly description?: string;
  /** Contract tokens the plugin may provide (a subset of `PLUGIN_TOKENS`); checked before `register` runs. */
  readonly provides: readonly symbol[];
  /**
   * Schema of the plugin's config section (a zod schema; `z` is exported by `@horde/core`). Use
   * `z.strictObject` so a mistyped key is an error. Without a schema the plugin takes no config.
   */
  readonly configSchema?: z.ZodType<Config>;
  /** Called once at start, in config order. May be async; the process waits for it. */
  register(ctx: PluginContext<Config>): void | Promise<void>;
  /**
   * Optional: checks what the config schema cannot, after every plugin registered. Returns the
   * problems in words (each says how to fix it), or nothing when all is well. \`horde config check\`
   * runs it, and so does every role before it starts, so the check and the start agree.
   */
  validate?(ctx: PluginValidateContext<Config>): readonly string[] | void | Promise<readonly string[] | void>;
}

/** Marks objects made by `definePlugin`; `Symbol.for` so two copies of @horde/core agree. */
export const PLUGIN_BRAND: unique symbol = Symbol.for('horde.plugin');

export interface HordePlugin<Config = unknown> extends PluginDefinition<Config> {
  readonly [PLUGIN_BRAND]: true;
}

/**
 * Makes a plugin; the plugin module default-exports the result:
 *
 * ```ts
 * export default definePlugin({
 *   name: 'horde-plugin-example', version: '1.0.0', apiRange: '^1.0.0',
 *   provides: [SCORING_RULE],
 *   configSchema: z.strictObject({ weight: z.number().default(1) }),
 *   register(ctx) { ctx.provide(SCORING_RULE, { useValue: makeRule(ctx.config.weight) }); },
 * });
 * ```
 */
export function definePlugin<Config = Record<string, never>>(definition: PluginDefinition<Config>): HordePlugin<Config> {
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true as const });
}

export function isHordePlugin(value: unknown): value is HordePlugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
