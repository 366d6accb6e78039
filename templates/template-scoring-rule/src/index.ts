import { definePlugin, SCORING_RULE, z, type JobOutcome, type ScoreTable, type ScoringRule } from '@horde/core';

/*
 * {{packageName}}: a scoring rule for horde validators.
 *
 * A scoring rule is one step of the validator's scoring pipeline. The validator runs the rules in
 * the order its config lists the plugins; each rule gets the cycle's facts (job outcomes,
 * manifests, neurons, main hotkeys, receipts) and the table of points the previous rule returned
 * (`table[hotkey][executorClass]`), and returns a new table. After the last rule, each hotkey's
 * points are summed over classes and normalised into the weights that go on chain.
 *
 * This example pays a bonus to reliable miners: a hotkey none of whose jobs failed this cycle (and
 * that completed at least `minJobs`) gets its points multiplied by `1 + bonus`. Because it
 * multiplies, list it after the plugins that award points (e.g. @horde/plugin-scoring-classic).
 *
 * Rules must be pure: same facts and table in, same table out; no I/O, no clock, no unseeded
 * randomness, and the input table is never modified. The tests check all of that.
 */

/** The plugin's settings: its `config` section in horde.config.yaml, validated before it runs. */
export const {{pluginVar}}Config = z.strictObject({
  /** Extra share of points for a reliable miner: 0.1 = +10 %. */
  bonus: z.number().min(0).max(10).default(0.1),
  /** Completed jobs a miner needs this cycle to qualify; raise it so one lucky job is not enough. */
  minJobs: z.number().int().min(1).default(1),
});

export type {{className}}Config = z.output<typeof {{pluginVar}}Config>;

/** The name the validator reports this rule's contribution under (`horde validator scores`). */
export const RULE_NAME = '{{name}}';

/** Completed, not judged wrong, not late. Organic jobs may carry no verdict: they count as correct. */
function succeeded(job: JobOutcome): boolean {
  return job.status === 'completed' && job.correct !== false && job.inTime !== false;
}

/**
 * Hotkeys that completed at least `minJobs` jobs this cycle and failed none. Rejections (a busy
 * miner declining) neither count nor disqualify: other rules judge whether they were excused.
 */
export function reliableHotkeys(jobs: readonly JobOutcome[], minJobs: number): Set<string> {
  const completed = new Map<string, number>();
  const failed = new Set<string>();
  for (const job of jobs) {
    if (job.status === 'rejected') continue;
    if (succeeded(job)) completed.set(job.minerHotkey, (completed.get(job.minerHotkey) ?? 0) + 1);
    else failed.add(job.minerHotkey);
  }
  return new Set([...completed].filter(([hotkey, count]) => count >= minJobs && !failed.has(hotkey)).map(([hotkey]) => hotkey));
}

/** The rule itself, separate from the plugin so tests (and other code) can build it directly. */
export function {{pluginVar}}Rule(config: {{className}}Config): ScoringRule {
  return {
    name: RULE_NAME,
    apply(facts, table): ScoreTable {
      const reliable = reliableHotkeys(facts.jobs, config.minJobs);
      const result: Record<string, Record<string, number>> = {};
      for (const [hotkey, byClass] of Object.entries(table)) {
        const factor = reliable.has(hotkey) ? 1 + config.bonus : 1;
        // A fresh row for every hotkey: the input table belongs to the pipeline.
        result[hotkey] = Object.fromEntries(Object.entries(byClass).map(([executorClass, points]) => [executorClass, points * factor]));
      }
      return result;
    },
  };
}

/**
 * The plugin: what horde imports when horde.config.yaml lists this package. `register` runs once
 * at start with the validated config and offers the rule to the validator.
 */
export default definePlugin({
  name: '{{packageName}}',
  // Keep in step with package.json (a test checks it); `horde plugins list` shows it.
  version: '0.1.0',
  // The plugin API versions this code is written for; horde refuses to load it elsewhere.
  apiRange: '^1.0.0',
  description: '{{description}}',
  provides: [SCORING_RULE],
  configSchema: {{pluginVar}}Config,
  register(ctx) {
    ctx.provide(SCORING_RULE, { useValue: {{pluginVar}}Rule(ctx.config) });
  },
});
