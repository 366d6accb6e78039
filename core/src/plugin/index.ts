export { PLUGIN_API_VERSION } from './api-version.js';
export {
  definePlugin,
  isHordePlugin,
  PLUGIN_BRAND,
  type HordePlugin,
  type PluginContext,
  type PluginDefinition,
  type PluginValidateContext,
  type Deps,
  type Provider,
  type ResolvedDeps,
  type TypedProvider,
  type Resolve,
  type ResolveAll,
} from './define.js';
export { PluginError, type PluginErrorCode } from './errors.js';
export {
  checkPluginDependencies,
  loadPlugins,
  roleInfrastructure,
  type PluginLoadOptions,
  registerPlugins,
  type LoadedPlugins,
  type PluginHostConfig,
  type PluginInfo,
  type PluginToRegister,
} from './loader.js';
export { isPathName, resolvePluginModule } from './resolve-module.js';
export { SHIPPED_PLUGINS } from './shipped.js';
