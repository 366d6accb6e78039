import { Counter, Gauge, Histogram, type Metrics } from '@horde/core';

/** What the vast metrics read at scrape time. */
export interface VastCostSource {
  /** Hourly price of the instances rented now, by executor class. */
  dollarsPerHourByClass(): Record<string, number>;
  spentLastDay(): number;
}

/** The vast manager's metrics on the process registry (the miner serves them at /metrics). */
export class VastMetrics {
  readonly refusals: Counter<'executor_class' | 'limit'>;
  readonly jobCost: Histogram<'executor_class'>;

  constructor(
    registry: Metrics,
    source: VastCostSource,
    limits: { maxDollarsPerHour?: number | undefined; maxDollarsPerDay?: number | undefined },
  ) {
    const registers = [registry];
    new Gauge({
      name: 'horde_vast_cost_dollars_per_hour',
      help: 'Hourly price (dph_total) of the vast instances rented now, per executor class.',
      labelNames: ['executor_class'],
      registers,
      collect() {
        this.reset();
        for (const [executorClass, dph] of Object.entries(source.dollarsPerHourByClass())) this.set({ executor_class: executorClass }, dph);
      },
    });
    new Gauge({
      name: 'horde_vast_spent_dollars_last_day',
      help: 'What the vast instances cost over the last 24 hours.',
      registers,
      collect() {
        this.set(source.spentLastDay());
      },
    });
    const caps = new Gauge({
      name: 'horde_vast_budget_dollars',
      help: 'Configured vast budget caps: limit hour ($/h) and day ($ per 24 h).',
      labelNames: ['limit'],
      registers,
    });
    if (limits.maxDollarsPerHour !== undefined) caps.set({ limit: 'hour' }, limits.maxDollarsPerHour);
    if (limits.maxDollarsPerDay !== undefined) caps.set({ limit: 'day' }, limits.maxDollarsPerDay);
    this.refusals = new Counter({
      name: 'horde_vast_rent_refusals_total',
      help: 'Starts refused because renting would go over a budget cap (limit hour or day).',
      labelNames: ['executor_class', 'limit'],
      registers,
    });
    this.jobCost = new Histogram({
      name: 'horde_vast_job_cost_dollars',
      help: "Cost of each executor's time on its vast instance (price × time from start to end), per executor class.",
      labelNames: ['executor_class'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }
}
