/**
 * grafana/horde-dashboard.json may only chart metrics horde registers: every `horde_*` name in a
 * panel query must be one of the metrics the roles put on their registries (histograms count with
 * their _bucket, _sum and _count series), so a renamed metric cannot leave an empty panel behind.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registerFacilitatorMetrics } from '../../core/src/facilitator/metrics.js';
import { FacilitatorStore } from '../../core/src/facilitator/store.js';
import { chainCallHistogram } from '../../core/src/metrics/chain-metrics.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { MinerMetrics } from '../../core/src/miner/metrics.js';
import { openStore } from '../../core/src/store/index.js';
import { ValidatorMetrics } from '../../core/src/validator/metrics.js';
import { VastMetrics } from '../../executor-managers/vast/src/metrics.js';

const DASHBOARD = fileURLToPath(new URL('../../grafana/horde-dashboard.json', import.meta.url));

interface Panel {
  type: string;
  title: string;
  id: number;
  datasource?: { uid: string };
  targets?: Array<{ expr: string; refId: string }>;
}

/** Every series name a scrape of each role can show, as prom-client exposes them. */
async function exposedNames(): Promise<Set<string>> {
  const store = await openStore({ client: 'sqlite', filename: ':memory:' });
  try {
    const registry = createMetricsRegistry({ defaultMetrics: true });
    new MinerMetrics(registry, { usage: () => ({}), connections: () => 0 });
    new ValidatorMetrics(registry);
    registerFacilitatorMetrics(registry, new FacilitatorStore(store), { validators: () => [] });
    chainCallHistogram(registry);
    new VastMetrics(registry, { dollarsPerHourByClass: () => ({}), spentLastDay: () => 0 }, {});
    const names = new Set<string>();
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (metric.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    }
    return names;
  } finally {
    await store.close();
  }
}

/** Metric names in a PromQL query; label values (`status="horde_failed"`) are not names. */
function metricNames(expr: string): string[] {
  return expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').match(/\bhorde_[a-z0-9_]+/g) ?? [];
}

describe('grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[] };
  const queries = dashboard.panels.filter((p) => p.type !== 'row');

  it('references only metric names that horde registers', async () => {
    const names = await exposedNames();
    const referenced = new Set(queries.flatMap((panel) => (panel.targets ?? []).flatMap((t) => metricNames(t.expr))));
    expect(referenced.size).toBeGreaterThan(20);
    expect([...referenced].filter((name) => !names.has(name))).toEqual([]);
  });

  it('has a query in every panel, unique panel ids, and the data source as a variable', () => {
    expect(dashboard.uid).toBe('horde-overview');
    for (const panel of queries) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
    }
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
