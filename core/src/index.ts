export * from "./contracts/index.js";
export { HordeError } from "./errors.js";
export { makeInlineVolume } from './validator/inline-volume.js';
export { executorSecondsIn, executorTimeSpans, type ExecutorTimeSpan } from './validator/scoring/executor-time.js';
export { COMPUTE_HORDE_CLASS_WEIGHTS, HORDE_CLASS_WEIGHTS, splitColdkeyPoints, type ColdkeySplitOptions, type MainHotkeys } from './validator/scoring/coldkey-split.js';
export { mainHotkeyFacts, verifyDance, type DanceEvidence, type DanceRefusal } from './validator/scoring/dance-check.js';
// Plugins: definePlugin and the loader; `z` so plugin config schemas use core's own zod.
export * from './plugin/index.js';
export { z } from 'zod';
export { inject, injectable } from './runtime/di.js';
// Config, logging, metrics and the root container.
export * from './config/index.js';
export { createLogger, forwardAgentLine, forwardAgentOutput, silentLogger, type LoggerOptions, type LogLevel } from './logging/index.js';
export { createMetricsRegistry, METRICS_PREFIX, type MetricsOptions } from './metrics/index.js';
// prom-client's metric classes, so plugins register on the process registry with core's own copy.
export { Counter, Gauge, Histogram } from 'prom-client';
export { CONFIG, createRuntimeContainer, type RuntimeServices } from './runtime/container.js';
export { SystemClock } from './time/clock.js';
// Wire protocol message and enum types, and the hotkey types (values stay runtime-internal).
export type * from './protocol/index.js';
// Receipt datetimes as pydantic reads them (plugins checking receipt timestamps).
export { datetimeToEpochMicros } from './protocol/datetime.js';
export type { Hotkey, HotkeySource } from './keys/index.js';
