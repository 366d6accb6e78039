#!/usr/bin/env node
// horde's docker runner (DockerJobRunner: create with the job's isolation and limits, start,
// capture output, remove) against its baseline measured in the same run: `docker run --rm` of
// the same image and command with the same isolation (no network, the three binds, pids limit).
// Command `true` in the test image. Goal ≤ 1.5×. `--runs=N` (default 10, 2 with --quick).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { dockerRunMs, TEST_IMAGE, testDocker } from '../lib/docker.mjs';
import { DIST, median, numberArg, printTable, requireThat, round, writeResults } from '../lib/report.mjs';

const RUNS = numberArg('runs', 10, 2);
const { DockerJobRunner } = await import(join(DIST, 'executor/runners/docker.js'));
const { silentLogger } = await import(join(DIST, 'logging/index.js'));

const docker = await testDocker();
const runner = new DockerJobRunner({ docker, logger: silentLogger() });
await runner.prepare(TEST_IMAGE);
const work = mkdtempSync(join(tmpdir(), 'horde-bench-docker-'));
const dirs = { volumeDir: join(work, 'volume'), outputDir: join(work, 'output'), artifactsDir: join(work, 'artifacts') };
for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });

const horde = [];
const plain = [];
try {
  // Interleaved, so that a slower moment of the shared machine hits both alike; the first of each warms up.
  for (let i = 0; i < RUNS + 1; i++) {
    const start = performance.now();
    const outcome = await runner.run({
      jobUuid: randomUUID(),
      image: TEST_IMAGE,
      command: ['true'],
      env: {},
      preset: 'none',
      ...dirs,
      artifactsMountPath: '/artifacts',
      network: 'none',
      timeoutMs: 30_000,
    });
    const ms = performance.now() - start;
    requireThat(outcome.exitCode === 0, `the runner's job exited ${outcome.exitCode}: ${outcome.stderr}`);
    const baseline = await dockerRunMs([
      '--network',
      'none',
      '--pids-limit',
      '4096',
      '-v',
      `${dirs.volumeDir}:/volume`,
      '-v',
      `${dirs.outputDir}:/output`,
      '-v',
      `${dirs.artifactsDir}:/artifacts`,
      TEST_IMAGE,
      'true',
    ]);
    if (i > 0) {
      horde.push(ms);
      plain.push(baseline);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const ratio = median(horde) / median(plain);
printTable(`docker runner vs docker run --rm (command true, ${RUNS} runs each, interleaved)`, [
  {
    path: 'horde DockerJobRunner.run',
    p50Ms: round(median(horde), 1),
    minMs: round(Math.min(...horde), 1),
    ratio: round(ratio, 2),
    goal: '≤ 1.5×',
  },
  { path: 'docker run --rm (CLI)', p50Ms: round(median(plain), 1), minMs: round(Math.min(...plain), 1), ratio: 1, goal: '' },
]);
writeResults('docker-runner', {
  runs: RUNS,
  runnerP50Ms: round(median(horde), 1),
  dockerRunP50Ms: round(median(plain), 1),
  ratio: round(ratio, 2),
  goal: { ratio: 1.5, met: ratio <= 1.5 },
});
