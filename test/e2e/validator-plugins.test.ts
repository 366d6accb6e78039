/**
 * The validator-side plugins (and the miner-side dancing plugin) load by package name from their
 * built `dist`, validate their config sections, and provide what their READMEs promise.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/src/config/index.js';
import { DANCING_STRATEGY, JOB_GENERATOR, SCORING_RULE } from '../../core/src/contracts/index.js';
import { silentLogger } from '../../core/src/logging/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { S3ObjectStore } from '../../core/src/objectstore/s3.js';
import { loadPlugins } from '../../core/src/plugin/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { createRuntimeContainer } from '../../core/src/container/container.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { s3Config } from '../support/services.js';

const dir = mkdtempSync(join(tmpdir(), 'horde-validator-plugins-'));
beforeAll(() => requireBuiltCli());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(plugins: unknown[]) {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ dataDir: dir, plugins }));
  const config = await loadConfig({ configPath: file });
  const root = createRuntimeContainer({
    config,
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: new SystemClock(),
    objectStore: new S3ObjectStore(s3Config()),
  });
  return loadPlugins(config, root);
}

describe('validator plugins load by name', () => {
  it('provides the job generators, the classic rules in config order, and a dancing strategy', async () => {
    const loaded = await load([
      '@horde/plugin-job-hash-crack',
      { name: '@horde/plugin-job-llm-prompts', config: { seriesPerCycle: 2 } },
      { name: '@horde/plugin-scoring-classic', config: { rules: ['synthetic-jobs', 'class-weights'] } },
      { name: '@horde/plugin-dancing', config: { strategy: 'random-split', seed: 'op' } },
    ]);
    expect(loaded.all(JOB_GENERATOR).map((g) => g.name)).toEqual(['hash-crack', 'llm-prompts']);
    expect(loaded.all(SCORING_RULE).map((r) => r.name)).toEqual(['synthetic-jobs', 'class-weights']);
    expect(loaded.single(DANCING_STRATEGY)?.name).toBe('random-split');
  });

  it('provides the allowance rules', async () => {
    const loaded = await load([{ name: '@horde/plugin-scoring-allowance', config: { allowanceMultiplier: 100 } }]);
    expect(loaded.all(SCORING_RULE).map((r) => r.name)).toEqual(['allowance-paid-jobs', 'allowance-split']);
  });

  it('rejects bad settings naming the plugin and the key', async () => {
    await expect(load([{ name: '@horde/plugin-dancing', config: { strategy: 'tango' } }])).rejects.toThrow(/plugin-dancing[\s\S]*strategy/);
    await expect(load([{ name: '@horde/plugin-scoring-classic', config: { rules: ['class-weights', 'class-weights'] } }])).rejects.toThrow(
      /each rule may appear once/,
    );
    await expect(
      load([
        {
          name: '@horde/plugin-job-hash-crack',
          config: { classes: { 'always_on.test': { algorithms: ['md5'], alphabet: 'ab', length: 2, hashesPerBatch: 1 } } },
        },
      ]),
    ).rejects.toThrow(/plugin-job-hash-crack[\s\S]*algorithms/);
  });
});
