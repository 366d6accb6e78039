import { z } from 'zod';

export const metricsSection = z.strictObject({
  /** Collect prom-client's Node process metrics (CPU, memory, event loop), prefixed `horde_`. */
  defaultMetrics: z.boolean().default(true),
});

export type MetricsSection = z.output<typeof metricsSection>;
