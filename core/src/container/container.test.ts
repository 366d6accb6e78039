import { describe, expect, it } from 'vitest';
import { CHAIN, CLOCK, CONFIG, LOGGER, METRICS, STORE } from '@horde/core';
import { createMetricsRegistry, createRuntimeContainer, parseConfig, silentLogger, SystemClock } from '@horde/core/runtime';

describe('SystemClock', () => {
  it('tells wall time and sleeps', async () => {
    const clock = new SystemClock();
    const before = Date.now();
    expect(Math.abs(clock.now() - before)).toBeLessThan(50);
    const start = performance.now();
    await clock.sleep(30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
  });

  it('rejects with the abort reason, whether aborted before or during the sleep', async () => {
    const clock = new SystemClock();
    const reason = new Error('shutting down');
    const early = new AbortController();
    early.abort(reason);
    await expect(clock.sleep(10_000, early.signal)).rejects.toBe(reason);

    const late = new AbortController();
    const sleeping = clock.sleep(10_000, late.signal);
    setTimeout(() => late.abort(reason), 10);
    await expect(sleeping).rejects.toBe(reason);
  });
});

describe('createRuntimeContainer', () => {
  const services = () => ({
    config: parseConfig({}, { baseDir: '/srv' }),
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: new SystemClock(),
  });

  it('registers the infrastructure it is given, and only that', () => {
    const given = services();
    const root = createRuntimeContainer(given);
    expect(root.resolve(CONFIG)).toBe(given.config);
    expect(root.resolve(LOGGER)).toBe(given.logger);
    expect(root.resolve(METRICS)).toBe(given.metrics);
    expect(root.resolve(CLOCK)).toBe(given.clock);
    expect(root.isRegistered(STORE, true)).toBe(false);
    expect(root.isRegistered(CHAIN, true)).toBe(false);
  });

  it('keeps two runtimes in one process apart', () => {
    const first = createRuntimeContainer(services());
    const second = createRuntimeContainer(services());
    first.register(STORE, { useValue: { dialect: 'sqlite' } as never });
    expect(first.isRegistered(STORE, true)).toBe(true);
    expect(second.isRegistered(STORE, true)).toBe(false);
    expect(second.resolve(CLOCK)).not.toBe(first.resolve(CLOCK));
  });
});
