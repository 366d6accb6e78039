/**
 * The @horde/core range a new plugin depends on by default: the plugin API this scaffolder's
 * templates are written for. Bump it together with @horde/core's version (a test in
 * templates/test checks that the workspace's core satisfies it).
 */
export const DEFAULT_CORE_VERSION = '^0.1.0';
