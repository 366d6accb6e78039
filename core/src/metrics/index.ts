import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Metrics } from '../contracts/index.js';

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC), as `horde_process_*`, `horde_nodejs_*`. */
  readonly defaultMetrics?: boolean;
  /** Labels on every metric, e.g. `{ role: 'miner', hotkey }`. */
  readonly labels?: Record<string, string>;
}

/** Every horde metric name starts with this. */
export const METRICS_PREFIX = 'horde_';

/**
 * A fresh registry per process (never prom-client's global one), so tests and several roles in
 * one process (the devnet) do not collide on metric names.
 */
export function createMetricsRegistry(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  return registry;
}
export { CHAIN_CALL_METRIC, instrumentChain } from './chain-metrics.js';
