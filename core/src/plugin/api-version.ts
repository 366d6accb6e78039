/**
 * Version of the plugin API: `definePlugin`'s shape, `PluginContext`, the contracts and their
 * tokens. A plugin states the versions it works with as a semver range (`apiRange: '^1.0.0'`);
 * the loader refuses a plugin whose range does not include this version. Bump the major version
 * for any change that can break an existing plugin, the minor for additions.
 */
export const PLUGIN_API_VERSION = '1.0.0';
