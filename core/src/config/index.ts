export { defineConfig } from './define.js';
export { ConfigError, type ConfigErrorCode } from './errors.js';
export { CONFIG_SEARCH_PLACES, expandHome, loadConfig, parseConfig, type LoadConfigOptions, type ParseConfigOptions } from './load.js';
export { hordeConfigSchema, ROLES, type ConfigOrigin, type HordeConfig, type HordeConfigInput } from './schema.js';
export { chainNetworkSchema, chainSection, localChainSection, type ChainSection } from './sections/chain.js';
export { executorSection, type ExecutorSection } from './sections/executor.js';
export { facilitatorSection, type FacilitatorSection } from './sections/facilitator.js';
export { hotkeySection, type HotkeySectionInput, type HotkeySourceConfig } from './sections/hotkey.js';
export { logLevelSchema, logSection, type LogSection } from './sections/log.js';
export { metricsSection, type MetricsSection } from './sections/metrics.js';
export { dashboardSection, type DashboardSection } from './sections/dashboard.js';
export { minerSection, type MinerSection } from './sections/miner.js';
export { objectStoreSection, type ObjectStoreSection } from './sections/object-store.js';
export { DEFAULT_PLUGINS, pluginEntrySchema, pluginsSection, type PluginEntry } from './sections/plugins.js';
export { storeSection, type StoreSection } from './sections/store.js';
export { validatorSection, type ValidatorSection } from './sections/validator.js';
export { storeOptions } from './store-options.js';
export {
  DEFAULT_WALLETS_DIR,
  hotkeyFilePath,
  readWalletHotkeyFile,
  walletHotkeyFileSchema,
  walletHotkeyPath,
  WalletFileError,
  type WalletFileErrorCode,
  type WalletHotkeyFile,
} from './wallet.js';
