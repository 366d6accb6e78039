import type { HordeConfigInput } from './schema.js';

/**
 * Identity function that gives a `horde.config.ts` type checking and completion:
 * `export default defineConfig({ chain: { network: 'local' } })`.
 */
export function defineConfig(config: HordeConfigInput): HordeConfigInput {
  return config;
}
