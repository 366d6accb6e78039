import { z } from 'zod';

/**
 * One plugin to load: a package name (`@horde/plugin-hardware-classes`) or a path relative to the
 * config file (`./my-plugin.js`), with the plugin's own config section. A bare string is shorthand
 * for `{ name }`. Loaded in the order listed; that order is the order of multi-token providers.
 */
export interface PluginEntry {
  name: string;
  config?: Record<string, unknown>;
  enabled: boolean;
}

export const pluginEntrySchema = z.union(
  [
    z
      .string()
      .min(1)
      .transform((name): PluginEntry => ({ name, enabled: true })),
    z.strictObject({
      name: z.string().min(1),
      /** Validated by the plugin's `configSchema`. */
      config: z.record(z.string(), z.unknown()).optional(),
      enabled: z.boolean().default(true),
    }),
  ],
  { error: 'expected a plugin name or { name, config?, enabled? }' },
);

export const pluginsSection = z.array(pluginEntrySchema);

/** Plugins a config without a `plugins` key gets. */
export const DEFAULT_PLUGINS = ['@horde/plugin-hardware-classes'] as const;
