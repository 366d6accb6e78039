import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@horde/core/runtime';

describe('createMetricsRegistry', () => {
  it('exposes Node process metrics prefixed horde_', async () => {
    const text = await createMetricsRegistry().metrics();
    expect(text).toContain('horde_process_cpu_user_seconds_total');
    expect(text).toContain('horde_nodejs_heap_size_used_bytes');
    expect(text).not.toMatch(/^process_cpu/m);
  });

  it('gives each registry its own metrics, so two roles in one process do not collide', async () => {
    const miner = createMetricsRegistry({ defaultMetrics: false, labels: { role: 'miner' } });
    const validator = createMetricsRegistry({ defaultMetrics: false, labels: { role: 'validator' } });
    new Counter({ name: 'horde_jobs_total', help: 'jobs', registers: [miner] }).inc(2);
    new Counter({ name: 'horde_jobs_total', help: 'jobs', registers: [validator] }).inc(5);
    expect(await miner.metrics()).toContain('horde_jobs_total{role="miner"} 2');
    expect(await validator.metrics()).toContain('horde_jobs_total{role="validator"} 5');
    expect(await miner.metrics()).not.toContain('horde_nodejs');
  });
});
