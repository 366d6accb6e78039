import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PluginError, SCORING_RULE } from '@horde/core';
import { job, registerPluginForTest, runScoringRuleContract, scoringFacts } from '@horde/core/testkit';
import plugin, { RULE_NAME, {{pluginVar}}Config, {{pluginVar}}Rule } from './index.js';

/** Registers the plugin the way a horde process does: apiRange and config are checked first. */
const load = (config: Record<string, unknown> = {}) => registerPluginForTest(plugin, { config });

/** The rule as horde builds it from `config`. */
async function loadRule(config: Record<string, unknown> = {}) {
  const [rule] = (await load(config)).all(SCORING_RULE);
  if (!rule) throw new Error('the plugin provided no scoring rule');
  return rule;
}

const CLASS = 'always_on.test';
const points = { alice: { [CLASS]: 10 }, bob: { [CLASS]: 10 } };

describe('{{packageName}}', () => {
  it('declares the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(plugin.version).toBe(pkg.version);
  });

  it('provides one scoring rule that pays the default 10 % bonus to a miner with no failed job', async () => {
    const rule = await loadRule();
    expect(rule.name).toBe(RULE_NAME);
    const facts = scoringFacts({
      jobs: [
        job({ minerHotkey: 'alice', executorClass: CLASS }),
        job({ minerHotkey: 'bob', executorClass: CLASS }),
        job({ minerHotkey: 'bob', executorClass: CLASS, status: 'failed' }),
      ],
    });
    const table = rule.apply(facts, points);
    expect(table.alice?.[CLASS]).toBeCloseTo(11);
    expect(table.bob?.[CLASS]).toBe(10);
  });

  it('takes its bonus and job minimum from the config', async () => {
    const rule = await loadRule({ bonus: 0.5, minJobs: 2 });
    const oneJob = scoringFacts({ jobs: [job({ minerHotkey: 'alice', executorClass: CLASS })] });
    expect(rule.apply(oneJob, points).alice?.[CLASS]).toBe(10);
    const twoJobs = scoringFacts({ jobs: [job({ minerHotkey: 'alice', executorClass: CLASS }), job({ minerHotkey: 'alice', executorClass: CLASS })] });
    expect(rule.apply(twoJobs, points).alice?.[CLASS]).toBe(15);
  });

  it('pays no bonus for a wrong or late answer, and ignores rejections', async () => {
    const rule = await loadRule();
    const facts = scoringFacts({
      jobs: [
        job({ minerHotkey: 'alice', executorClass: CLASS, correct: false }),
        job({ minerHotkey: 'bob', executorClass: CLASS }),
        job({ minerHotkey: 'bob', executorClass: CLASS, status: 'rejected', accepted: false }),
      ],
    });
    const late = scoringFacts({ jobs: [job({ minerHotkey: 'alice', executorClass: CLASS, inTime: false })] });
    expect(rule.apply(facts, points)).toEqual({ alice: { [CLASS]: 10 }, bob: { [CLASS]: 11 } });
    expect(rule.apply(late, points).alice?.[CLASS]).toBe(10);
  });

  it('refuses a bad config value and an unknown key, naming the key', async () => {
    await expect(load({ bonus: -1 })).rejects.toThrow(PluginError);
    await expect(load({ bonus: -1 })).rejects.toThrow(/bonus/);
    await expect(load({ bonsu: 0.2 })).rejects.toThrow(/bonsu/);
  });
});

// The contract every scoring rule keeps: pure, deterministic, finite points ≥ 0, inputs untouched.
runScoringRuleContract({{pluginVar}}Rule({{pluginVar}}Config.parse({})), [
  { facts: scoringFacts(), table: {} },
  { facts: scoringFacts({ jobs: [job({ minerHotkey: 'alice', executorClass: CLASS })] }), table: points },
  { facts: scoringFacts({ jobs: [job({ minerHotkey: 'bob', executorClass: CLASS, status: 'horde_failed' })] }), table: points },
]);
