import { z } from 'zod';
import { chainSection } from './sections/chain.js';
import { dashboardSection, isLoopbackHost } from './sections/dashboard.js';
import { executorSection } from './sections/executor.js';
import { facilitatorSection } from './sections/facilitator.js';
import { hotkeySection, type HotkeySectionInput } from './sections/hotkey.js';
import { logSection } from './sections/log.js';
import { metricsSection } from './sections/metrics.js';
import { minerSection } from './sections/miner.js';
import { objectStoreSection } from './sections/object-store.js';
import { DEFAULT_PLUGINS, pluginsSection } from './sections/plugins.js';
import { storeSection } from './sections/store.js';
import { validatorSection } from './sections/validator.js';

export const ROLES = ['miner', 'validator', 'executor', 'facilitator', 'devnet'] as const;

/**
 * The whole config file. Every setting has a default, so an empty file (or none) is a valid
 * config; unknown keys are errors, so a typo never silently falls back to a default.
 */
export const hordeConfigSchema = z
  .strictObject({
    /** What this process is; the role commands (`horde miner`, …) set it themselves. */
    role: z.enum(ROLES).default('miner'),
    hotkey: hotkeySection.prefault({}),
    /** Where state lives (SQLite file, plugin data). Relative to the config file's directory. */
    dataDir: z.string().min(1).default('.horde'),
    store: storeSection.prefault({}),
    chain: chainSection.prefault({}),
    objectStore: objectStoreSection.prefault({}),
    miner: minerSection.prefault({}),
    executor: executorSection.prefault({}),
    validator: validatorSection.prefault({}),
    facilitator: facilitatorSection.prefault({}),
    log: logSection.prefault({}),
    metrics: metricsSection.prefault({}),
    dashboard: dashboardSection.prefault({}),
    plugins: pluginsSection.prefault([...DEFAULT_PLUGINS]),
  })
  .superRefine((config, ctx) => {
    if (config.dashboard.enabled && !isLoopbackHost(config.dashboard.host) && config.dashboard.token === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['dashboard', 'token'],
        message: `required when dashboard.host is not loopback (${config.dashboard.host}): anyone who reaches the port would see the dashboard; set a secret of 16+ characters, or keep host 127.0.0.1`,
      });
    }
    if (config.store.client === 'postgres' && !config.store.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['store', 'url'],
        message: 'required when store.client is "postgres" (e.g. postgres://horde@127.0.0.1:5432/horde)',
      });
    }
    const chainStore = config.chain.local.store;
    if (chainStore?.client === 'postgres' && !chainStore.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['chain', 'local', 'store', 'url'],
        message: 'required when chain.local.store.client is "postgres" (e.g. postgres://horde@127.0.0.1:5432/chain)',
      });
    }
  });

/** What a config file may contain (every key optional). `defineConfig` takes this. */
export type HordeConfigInput = Omit<z.input<typeof hordeConfigSchema>, 'hotkey'> & { hotkey?: HotkeySectionInput };

/** Where the config came from; relative paths in it are resolved against `baseDir`. */
export interface ConfigOrigin {
  /** Absolute path of the config file, or null when none was found (defaults and env only). */
  readonly configFile: string | null;
  /** Directory of the config file, or the working directory when there is none. */
  readonly baseDir: string;
}

/**
 * A validated config with every default filled in and every path absolute (`dataDir`,
 * `store.filename`, `hotkey.file`, `hotkey.walletsDir`, `log.file`).
 */
export type HordeConfig = z.output<typeof hordeConfigSchema> & ConfigOrigin;
