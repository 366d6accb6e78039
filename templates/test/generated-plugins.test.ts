/**
 * The scaffolder's promise: what it generates is a working plugin. Each kind is generated with the
 * real CLI, named in a horde.config.yaml by path, loaded by horde's own config loader and plugin
 * loader (the generated src/index.ts imports `@horde/core`, which vitest maps to core/src), and
 * then used the way the runtime uses that contract: the executor manager through the executor-
 * manager contract suite, the scoring rule in the validator's scoring pipeline after the classic
 * rules, the job generator's job run for real (as a process and in a Docker container) and
 * verified, the hardware class beside the shipped ones, the dancing strategy on a miner's horde.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DANCING_STRATEGY,
  EXECUTOR_MANAGER,
  HARDWARE_CLASS,
  JOB_GENERATOR,
  PluginError,
  SCORING_RULE,
  type JobResult,
  type JobRunner,
  type JobSpec,
} from '@horde/core';
import { createMetricsRegistry, createRuntimeContainer, loadConfig, loadPlugins, silentLogger, SystemClock } from '@horde/core/runtime';
import { job, neuron, runExecutorManagerContract, scoringFacts } from '@horde/core/testkit';
import { DockerJobRunner, ProcessJobRunner, runScoringPipeline } from '@horde/core/runtime';
import { docker, testImage } from '../../test/support/services.js';
import { REPO, scaffoldAll, tempDir, type KindId } from './scaffold.js';

const work = tempDir('plugins');
afterAll(() => rmSync(work, { recursive: true, force: true }));

let generated: Promise<Record<KindId, string>> | undefined;
/** Generates every kind once, on first use (the contract suite below needs it only inside its tests). */
const generate = () => (generated ??= scaffoldAll(work));

/** Where a generated package's plugin module is, as a config next to the packages names it. */
const entry = (kind: KindId) => `./gen-${kind}/src/index.ts`;
/** A shipped plugin, by absolute path to its source (no build needed). */
const shipped = (folder: string) => join(REPO, folder, 'src/index.ts');

let configCount = 0;
/**
 * Writes a horde.config.yaml listing `plugins` (YAML accepts JSON) and loads it the way a horde
 * process does: config file → root container → plugin loader.
 */
async function loadFromConfig(plugins: readonly unknown[]) {
  await generate();
  configCount += 1;
  const dir = join(work, `config-${configCount}`);
  await mkdir(dir);
  const configPath = join(dir, 'horde.config.yaml');
  // Paths in a config are relative to its directory: one level above the packages.
  const relocated = plugins.map((plugin) => JSON.parse(JSON.stringify(plugin).replaceAll('"./gen-', '"../gen-')) as unknown);
  writeFileSync(configPath, `# written by generated-plugins.test.ts\nplugins: ${JSON.stringify(relocated)}\n`);
  const config = await loadConfig({ configPath, env: {} });
  const root = createRuntimeContainer({
    config,
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: new SystemClock(),
  });
  return { loaded: await loadPlugins(config, root), root };
}

async function loadError(plugins: readonly unknown[]): Promise<PluginError> {
  const error = await loadFromConfig(plugins).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PluginError);
  return error as PluginError;
}

describe('generated executor manager', () => {
  it('is listed with its name, version and contract, and refuses a second executor manager', async () => {
    const { loaded } = await loadFromConfig([entry('executor-manager')]);
    expect(loaded.plugins).toEqual([
      expect.objectContaining({
        name: 'horde-plugin-gen-executor-manager',
        version: '0.1.0',
        provides: [{ contract: 'ExecutorManager', count: 1 }],
      }),
    ]);
    expect(await loaded.single(EXECUTOR_MANAGER)?.manifest()).toEqual({ 'always_on.test': 1 });
    const error = await loadError([shipped('executor-managers/local'), entry('executor-manager')]);
    expect(error.code).toBe('HORDE_PLUGIN_CONFLICT');
  });
});

// The same suite every executor manager must pass, run on the generated one as loaded from a config.
runExecutorManagerContract({
  name: 'generated executor manager, loaded from horde.config.yaml',
  create: async () => {
    const { loaded } = await loadFromConfig([{ name: entry('executor-manager'), config: { executors: 2, killGraceMs: 2_000 } }]);
    const manager = loaded.single(EXECUTOR_MANAGER);
    if (!manager) throw new Error('the generated plugin provided no executor manager');
    return manager;
  },
});

describe('generated scoring rule', () => {
  const CLASS = 'spin_up-4min.gpu-24gb';
  const facts = scoringFacts({
    neurons: [neuron({ uid: 1, hotkey: 'alice', coldkey: 'cold-a' }), neuron({ uid: 2, hotkey: 'bob', coldkey: 'cold-b' })],
    jobs: [
      job({ minerHotkey: 'alice', executorClass: CLASS }),
      job({ minerHotkey: 'alice', executorClass: CLASS }),
      job({ minerHotkey: 'bob', executorClass: CLASS }),
      job({ minerHotkey: 'bob', executorClass: CLASS }),
      job({ minerHotkey: 'bob', executorClass: CLASS, status: 'failed' }),
    ],
  });
  const weightOf = (weights: readonly { hotkey: string; weight: number }[], hotkey: string) =>
    weights.find((w) => w.hotkey === hotkey)?.weight ?? 0;

  it("multiplies the reliable miner's points by 1 + bonus at the end of the validator's pipeline", async () => {
    const classic = { name: shipped('plugins/scoring-classic') };
    const baseline = runScoringPipeline((await loadFromConfig([classic])).loaded.all(SCORING_RULE), facts);
    const { loaded } = await loadFromConfig([classic, { name: entry('scoring-rule'), config: { bonus: 0.5 } }]);
    const rules = loaded.all(SCORING_RULE);
    expect(rules.at(-1)?.name).toBe('gen-scoring-rule');
    const result = runScoringPipeline(rules, facts);
    // Only the last step differs from the classic pipeline: alice (no failed job) gets +50 %.
    const ratio = (weights: typeof result.weights) => weightOf(weights, 'alice') / weightOf(weights, 'bob');
    expect(ratio(result.weights)).toBeCloseTo(ratio(baseline.weights) * 1.5, 10);
    expect(result.steps.at(-1)?.rule).toBe('gen-scoring-rule');
    expect(result.vector.reduce((sum, w) => sum + w.weight, 0)).toBeCloseTo(1, 10);
  });

  it('refuses a bad setting in horde.config.yaml, naming the plugin, the key and the file', async () => {
    const error = await loadError([{ name: entry('scoring-rule'), config: { bonus: 'lots' } }]);
    expect(error.code).toBe('HORDE_PLUGIN_CONFIG_INVALID');
    expect(error.message).toContain('horde-plugin-gen-scoring-rule');
    expect(error.message).toContain('plugins[0].config.bonus');
    expect(error.message).toContain('horde.config.yaml');
  });
});

describe('generated job generator and hardware class, together', () => {
  /** Loads the two generated plugins wired to each other, as a validator's config would. */
  async function validatorPlugins(image: string) {
    const { loaded } = await loadFromConfig([
      { name: entry('hardware-class'), config: { jobGenerators: ['gen-job-generator'], maxJobSeconds: 30 } },
      { name: entry('job-generator'), config: { executorClasses: ['always_on.cpu.4c.8gb'], rounds: 25, image } },
    ]);
    const [hardwareClass] = loaded.all(HARDWARE_CLASS);
    if (!hardwareClass) throw new Error('the generated hardware class plugin provided nothing');
    // What the validator does: the generators the class names, that support it.
    const generators = loaded
      .all(JOB_GENERATOR)
      .filter((g) => hardwareClass.proof.jobGenerators.includes(g.name) && g.supports(hardwareClass));
    expect(generators.map((g) => g.name)).toEqual(['gen-job-generator']);
    const generated = await generators[0]!.generate({
      jobUuid: randomUUID(),
      minerHotkey: 'miner',
      executorClass: hardwareClass,
      cycle: 3,
    });
    return { hardwareClass, generated };
  }

  /** Runs a job spec with a real JobRunner, as an executor does, and returns what the validator receives. */
  async function execute(runner: JobRunner, spec: JobSpec): Promise<JobResult> {
    const dir = await mkdtemp(join(tmpdir(), 'horde-scaffold-job-'));
    try {
      for (const sub of ['volume', 'output', 'artifacts']) await mkdir(join(dir, sub));
      await runner.prepare(spec.image);
      const outcome = await runner.run({
        jobUuid: randomUUID(),
        image: spec.image,
        command: spec.command,
        env: spec.env,
        preset: spec.dockerRunOptionsPreset,
        volumeDir: join(dir, 'volume'),
        outputDir: join(dir, 'output'),
        artifactsDir: join(dir, 'artifacts'),
        artifactsMountPath: '/artifacts',
        network: 'none',
        timeoutMs: spec.timing.executionTimeLimitSeconds * 1000,
      });
      expect(outcome, outcome.stderr).toMatchObject({ exitCode: 0, timedOut: false });
      return { stdout: outcome.stdout, stderr: outcome.stderr, artifacts: {}, uploadResults: {}, timeTookMs: outcome.durationMs };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('makes a job for the class that, run as a process, verifies as correct; a forged answer does not', async () => {
    const { hardwareClass, generated } = await validatorPlugins('busybox:latest');
    expect(generated.spec).toMatchObject({ executorClass: 'always_on.cpu.4c.8gb', dockerRunOptionsPreset: hardwareClass.dockerPreset });
    // The process runner stands in for the image with the local shell tools (`env sh -c …`).
    const runner = new ProcessJobRunner({ images: { 'busybox:latest': ['env'] }, logger: silentLogger() });
    const result = await execute(runner, generated.spec);
    expect(await generated.verify(result)).toMatchObject({ correct: true, inTime: true });
    expect(await generated.verify({ ...result, stdout: `${'f'.repeat(64)}\n` })).toMatchObject({ correct: false });
    expect(await generated.verify({ ...result, timeTookMs: 20_000 })).toMatchObject({ correct: true, inTime: false });
  });

  it('makes a job that, run in a busybox container with no network, verifies as correct', async () => {
    const { generated } = await validatorPlugins(testImage());
    const result = await execute(new DockerJobRunner({ docker: docker(), logger: silentLogger() }), generated.spec);
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(await generated.verify(result)).toMatchObject({ correct: true, inTime: true });
  });

  it('adds a class beside the shipped ones, with an id and manifest letter of its own', async () => {
    const { loaded } = await loadFromConfig([shipped('plugins/hardware-classes'), entry('hardware-class')]);
    const classes = loaded.all(HARDWARE_CLASS);
    expect(classes.at(-1)?.id).toBe('always_on.cpu.4c.8gb');
    expect(classes.length).toBeGreaterThan(1);
    expect(new Set(classes.map((c) => c.id)).size).toBe(classes.length);
    expect(new Set(classes.map((c) => c.shortCode)).size).toBe(classes.length);
  });
});

describe('generated dancing strategy', () => {
  it('moves the main hotkey every cycle and shares out the whole horde', async () => {
    const { loaded } = await loadFromConfig([entry('dancing-strategy')]);
    const strategy = loaded.single(DANCING_STRATEGY);
    if (!strategy) throw new Error('the generated plugin provided no dancing strategy');
    const hotkeys = ['hk-1', 'hk-2'];
    const manifest = { 'always_on.test': 5 };
    expect([7, 8].map((cycle) => strategy.mainHotkey({ cycle, hotkeys, manifest }))).toEqual(['hk-2', 'hk-1']);
    expect(strategy.assign({ cycle: 7, hotkeys, manifest })).toEqual({ 'hk-2': { 'always_on.test': 3 }, 'hk-1': { 'always_on.test': 2 } });
  });

  it('cannot be loaded beside the shipped dancing plugin: a miner uses one strategy', async () => {
    const error = await loadError([shipped('plugins/dancing'), entry('dancing-strategy')]);
    expect(error.code).toBe('HORDE_PLUGIN_CONFLICT');
    expect(error.message).toContain('both provide DancingStrategy');
  });
});
