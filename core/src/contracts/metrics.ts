import type { Registry } from 'prom-client';

/**
 * Prometheus metrics registry (prom-client). Each role serves it on `/metrics`. Metric names are
 * prefixed `horde_`; plugins register their own metrics on this registry, prefixed with their name.
 */
export type Metrics = Registry;
