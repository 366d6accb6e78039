import { HordeError, type HordeErrorCode } from '../errors.js';

/** The catalogue's `HORDE_PLUGIN_*` codes (core/src/error-catalogue.ts says what each means). */
export type PluginErrorCode = Extract<HordeErrorCode, `HORDE_PLUGIN_${string}`>;

/** A plugin problem. `plugin` names the plugin (its name, or its entry in `plugins` before it loaded). */
export class PluginError extends HordeError {
  declare readonly code: PluginErrorCode;

  constructor(
    code: PluginErrorCode,
    readonly plugin: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
