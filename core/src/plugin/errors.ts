import { HordeError } from '../errors.js';

export type PluginErrorCode =
  /** The name in `plugins` is no installed package and no file. */
  | 'PLUGIN_NOT_FOUND'
  /** The name points at TypeScript source (`.ts`) that Node cannot import: the plugin must be built and its `dist/index.js` named. */
  | 'PLUGIN_NOT_BUILT'
  /** The module was found but importing it threw. */
  | 'PLUGIN_IMPORT_FAILED'
  /** The module's default export is not a plugin made by `definePlugin`, or a field of it is wrong. */
  | 'PLUGIN_INVALID'
  /** The plugin's `apiRange` does not include this core's `PLUGIN_API_VERSION`. */
  | 'PLUGIN_API_MISMATCH'
  /** The plugin's config section does not pass its `configSchema`. */
  | 'PLUGIN_CONFIG_INVALID'
  /** The same plugin is listed twice. */
  | 'PLUGIN_DUPLICATE'
  /** Two plugins (or one twice) provide a contract a process can have only one of (ExecutorManager, …). */
  | 'PLUGIN_CONFLICT'
  /** The plugin provides a token it may not provide, or did not declare in `provides`. */
  | 'PLUGIN_TOKEN_NOT_ALLOWED'
  /** The plugin's `register` threw. */
  | 'PLUGIN_REGISTER_FAILED'
  /** `ctx.resolve` asked for something nobody registered. */
  | 'PLUGIN_RESOLVE_FAILED'
  /** A `useFactory` threw while building the implementation. */
  | 'PLUGIN_FACTORY_FAILED'
  /** The plugin's `validate` found problems (or threw). */
  | 'PLUGIN_VALIDATE_FAILED';

/** A plugin problem. `plugin` names the plugin (its name, or its entry in `plugins` before it loaded). */
export class PluginError extends HordeError {
  constructor(
    code: PluginErrorCode,
    readonly plugin: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
