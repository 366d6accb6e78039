import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ExecutorStartContext, type Metrics } from '@horde/core';
import { createMetricsRegistry } from '@horde/core/testkit';
import { sshConfig } from '../../../test/support/services.js';
import { FakeVastServer } from '../test/fake-vast-server.js';
import { VastBudget } from './budget.js';
import { vastConfigSchema } from './config.js';
import { VastExecutorManager } from './vast-executor-manager.js';

// The budget and cost accounting against the fake marketplace (real HTTP) whose instances are the
// test services' real sshd: the agents really run.

const silent = pino({ level: 'silent' });
const CLASS = 'spin_up-4min.gpu-24gb';
const API_KEY = 'test-key-budget-0123';
const offer = (id: number, dph: number) => ({
  id,
  machine_id: id,
  gpu_name: 'RTX 4090',
  num_gpus: 1,
  gpu_ram: 24_564,
  dph_total: dph,
  reliability2: 0.99,
  verified: true,
  external: false,
  rentable: true,
});
const OFFERS = [offer(201, 0.3), offer(202, 0.35), offer(203, 0.4), offer(204, 0.45), offer(205, 0.5)];

let fake: FakeVastServer;
let apiUrl = '';
beforeAll(async () => {
  const ssh = sshConfig();
  fake = new FakeVastServer({ apiKey: API_KEY, offers: OFFERS, ssh: { host: ssh.host, port: ssh.port } });
  apiUrl = await fake.start();
});
afterAll(() => fake.close());

const managers: VastExecutorManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  expect(fake.live(), 'no test leaves an instance rented').toEqual([]);
  fake.calls.length = 0;
});

function make(overrides: Record<string, unknown>, metrics?: Metrics): VastExecutorManager {
  const ssh = sshConfig();
  const config = vastConfigSchema.parse({
    apiUrl,
    apiKey: API_KEY,
    image: 'ghcr.io/acme/horde-executor:test',
    classes: { [CLASS]: { maxInstances: 8, gpuName: 'RTX_4090' } },
    remoteCommand: ['/bin/sh', '-c', 'sleep 30 & wait', 'horde'],
    readyTimeoutSeconds: 15,
    pollIntervalSeconds: 0.05,
    ssh: { username: ssh.username, privateKeyPath: ssh.privateKeyPath },
    killGraceMs: 1_000,
    maxRetries: 0,
    ...overrides,
  });
  const m = new VastExecutorManager({ config, logger: silent, retryBaseMs: 10, ...(metrics ? { metrics } : {}) });
  managers.push(m);
  return m;
}

function context(token: string): ExecutorStartContext {
  return {
    minerAddress: 'ws://127.0.0.1:1',
    launch: { argv: ['horde', 'executor', '--token', token], env: { EXECUTOR_TOKEN: token } },
    timeoutSeconds: 60,
    logger: silent,
  };
}

async function eventually<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const metricValue = async (metrics: Metrics, name: string, labels: Record<string, string> = {}) => {
  const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name);
  const entry = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return entry?.value ?? 0;
};

describe('vast budget', () => {
  it('never goes over maxDollarsPerHour under a burst of starts: refuses the rest, says so in logs and metrics', async () => {
    const metrics = createMetricsRegistry({ defaultMetrics: false });
    const m = make({ budget: { maxDollarsPerHour: 1 } }, metrics);
    // Eight starts at once: the cheapest offers are 0.30, 0.35, 0.40… so at most three fit under $1/h.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => m.start(`burst-${i}-${randomUUID()}`, CLASS, context(`b${i}`))),
    );
    const started = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const rented = fake.live().reduce((sum, instance) => sum + instance.offer.dph_total, 0);
    expect(rented).toBeLessThanOrEqual(1);
    expect(started.length).toBeGreaterThanOrEqual(2);
    expect(started.length + refused.length).toBe(8);
    for (const r of refused)
      expect(r.reason).toMatchObject({
        code: 'HORDE_VAST_BUDGET_EXCEEDED',
        limit: 'hour',
        message: expect.stringContaining('over budget.maxDollarsPerHour $1.000'),
      });
    expect(await metricValue(metrics, 'horde_vast_rent_refusals_total', { limit: 'hour' })).toBe(refused.length);
    expect(await metricValue(metrics, 'horde_vast_cost_dollars_per_hour', { executor_class: CLASS })).toBeCloseTo(rented, 9);
    expect(await metricValue(metrics, 'horde_vast_budget_dollars', { limit: 'hour' })).toBe(1);
    // The miner's dashboard sees each instance with its price.
    expect(
      m
        .fleet()
        .map((entry) => entry.dollarsPerHour)
        .reduce((a, b) => a + (b ?? 0), 0),
    ).toBeCloseTo(rented, 9);
    expect(m.fleet().every((entry) => entry.state === 'busy' && entry.executorClass === CLASS)).toBe(true);
  }, 60_000);

  it('refuses a rent that would go over maxDollarsPerDay', async () => {
    const m = make({ budget: { maxDollarsPerDay: 0.25 } });
    await expect(m.start('day-1', CLASS, context('day-1'))).rejects.toMatchObject({ code: 'HORDE_VAST_BUDGET_EXCEEDED', limit: 'day' });
    expect(fake.callsTo('PUT', '/api/v0/asks/')).toEqual([]);
  });

  it('counts the cost of each job and keeps counting an instance whose destroy failed, until a retry destroys it', async () => {
    const metrics = createMetricsRegistry({ defaultMetrics: false });
    const m = make({ destroyRetrySeconds: 0.2, budget: { checkIntervalSeconds: 0.1 } }, metrics);
    const handle = await m.start('destroy-1', CLASS, context('destroy-1'));
    fake.failDestroyNext(1);
    await m.kill(handle);
    // The first destroy failed: the instance is still rented, shown so, and still costs money.
    expect(fake.live()).toHaveLength(1);
    expect(m.fleet()).toEqual([expect.objectContaining({ state: 'destroy_failed', dollarsPerHour: 0.3 })]);
    expect(await metricValue(metrics, 'horde_vast_cost_dollars_per_hour', { executor_class: CLASS })).toBeCloseTo(0.3, 9);
    // The watchdog retries without waiting for shutdown.
    // The marketplace answers the retry before the manager has taken the answer in: wait for both.
    await eventually('the retried destroy', () => (fake.live().length === 0 && m.fleet().length === 0 ? true : undefined), 5_000);
    expect(fake.callsTo('DELETE', '/api/v0/instances/')).toHaveLength(2);
    const jobCost = (await metrics.getMetricsAsJSON()).find((metric) => metric.name === 'horde_vast_job_cost_dollars')!;
    expect(jobCost.values.find((v) => v.metricName === 'horde_vast_job_cost_dollars_count')?.value).toBe(1);
  }, 30_000);

  it('counts what the last 24 hours cost and sees the day cap coming before it is crossed (the watchdog trigger)', async () => {
    let now = 1_000_000;
    const budget = new VastBudget({ maxDollarsPerDay: 1 }, () => now);
    const rental = budget.reserve(0.5);
    expect(rental.ok).toBe(true);
    now += 60 * 60_000; // an hour at $0.50
    expect(budget.spentLastDay()).toBeCloseTo(0.5, 9);
    expect(budget.overDayBudget(30_000)).toBe(false);
    // One more hour would reach $1.00 with another $0.50/h instance: refused.
    expect(budget.reserve(0.5)).toMatchObject({ ok: false, limit: 'day' });
    now += 59 * 60_000;
    expect(budget.overDayBudget(2 * 60_000)).toBe(true);
    if (rental.ok) rental.rental.end();
    now += 25 * 60 * 60_000; // a day later, nothing counted any more
    expect(budget.spentLastDay()).toBe(0);
    expect(budget.reserve(0.5).ok).toBe(true);
  });
});
