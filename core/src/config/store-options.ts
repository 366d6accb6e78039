import type { StoreOptions } from '../store/index.js';
import { ConfigError } from './errors.js';
import type { HordeConfig } from './schema.js';

/** The `openStore` options for a loaded config (its SQLite file is already absolute). */
export function storeOptions(config: Pick<HordeConfig, 'store' | 'dataDir'>): StoreOptions {
  const { store } = config;
  if (store.client === 'postgres') {
    // The schema guarantees a url for postgres; the check keeps the types honest.
    if (!store.url)
      throw new ConfigError('HORDE_CONFIG_INVALID', 'Invalid config:', ['store.url: required when store.client is "postgres"']);
    return { client: 'postgres', url: store.url, poolMax: store.poolMax };
  }
  return { client: 'sqlite', filename: store.filename ?? `${config.dataDir}/horde.sqlite` };
}
