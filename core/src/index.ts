// `@horde/core`: what a plugin author needs, and nothing that embeds a role (that is
// `@horde/core/runtime`). Every name here is in core/src/__snapshots__/api-surface.txt: a change
// to this entry is a change to the plugin API, made on purpose (`npx vitest run core/src/api-surface.test.ts -u`).

// Contracts and their injection tokens.
export * from './contracts/index.js';
// The process config as a token (a plugin that needs another section resolves it), and the
// `defineConfig` helper for typed `horde.config.ts` files.
export { CONFIG } from './container/container.js';
export { defineConfig, type HordeConfigInput } from './config/index.js';

// Plugins: definePlugin, its types, and core's own zod for config schemas.
export { PLUGIN_API_VERSION } from './plugin/api-version.js';
export {
  definePlugin,
  isHordePlugin,
  type HordePlugin,
  type PluginContext,
  type PluginDefinition,
  type PluginValidateContext,
  type Deps,
  type Provider,
  type ResolvedDeps,
  type TypedProvider,
  type ClassProvider,
  type Resolve,
  type ResolveAll,
} from './plugin/define.js';
export { PluginError, type PluginErrorCode } from './plugin/errors.js';
// Constructor injection (\`{ useClass }\` providers, private services in ctx.container): tsyringe's
// decorators, the same copy that builds the classes.
export { inject, injectable, type InjectableClass } from './container/injection.js';
export { z } from 'zod';

// Errors: the catalogue and its factory.
export { defineError, definePluginError, HordeError, ERROR_CATALOGUE, type DefinedErrorClass, type HordeErrorCode } from './errors.js';

// Metrics: prom-client's classes, so plugins register on the process registry with core's own copy.
export { Counter, Gauge, Histogram } from 'prom-client';

// Wire protocol message and enum types, and the hotkey types (values stay runtime-internal);
// receipt datetimes as pydantic reads them (plugins checking receipt timestamps).
export type * from './protocol/index.js';
export { datetimeToEpochMicros } from './protocol/datetime.js';
export type { Hotkey, HotkeySource } from './keys/index.js';

// Kit for scoring rules: executor time from receipts, the coldkey split and class weights, dance checks.
export { executorSecondsIn, executorTimeSpans, type ExecutorTimeSpan } from './validator/scoring/executor-time.js';
export {
  COMPUTE_HORDE_CLASS_WEIGHTS,
  HORDE_CLASS_WEIGHTS,
  splitColdkeyPoints,
  type ColdkeySplitOptions,
  type MainHotkeys,
} from './validator/scoring/coldkey-split.js';
export { mainHotkeyFacts, verifyDance, type DanceEvidence, type DanceRefusal } from './validator/scoring/dance-check.js';
// Kit for job generators: a volume carried inside the job request.
export { makeInlineVolume } from './validator/inline-volume.js';
// Kit for executor managers: an agent's output lines into the miner's log.
export { forwardAgentLine, forwardAgentOutput } from './logging/index.js';
// Kit for executor managers that start agents on the miner's own machine: their environment.
export { localAgentEnv } from './miner/executor-launch.js';
