// The GPU toolkit gate with fake toolkit programs on PATH (there is no GPU here). Each fake
// prints what the real program prints for `--version`.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentOwner, DockerJobRunner } from '../runners/docker.js';
import { createStartupChecks } from './create.js';
import { NvidiaToolkitCheck, parseToolkitVersions, toolkitVersionIsSafe } from './nvidia-toolkit.js';
import { StartupCheckFailed, type CheckContext } from './types.js';

const logger = pino({ level: 'silent' });

/** Real `--version` outputs (toolkit 1.17.x packages). */
const CTK = (v: string) => `NVIDIA Container Toolkit CLI version ${v}\ncommit: 9b69590c7428470a72f2ae05f826412976af1395\n`;
const HOOK = (v: string) => `NVIDIA Container Runtime Hook version ${v}\ncommit: 9b69590c7428470a72f2ae05f826412976af1395\n`;
const CLI = (cli: string, lib = cli) =>
  `cli-version: ${cli}\nlib-version: ${lib}\nbuild date: 2025-01-23T10:53+00:00\nbuild revision: f23e5e55ea27b3680aef363436d4bcf7659e0bfc\n` +
  'build compiler: x86_64-linux-gnu-gcc-7 7.5.0\nbuild platform: x86_64\nbuild flags: -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DNDEBUG -std=gnu11 -O2 -g\n';

describe('parseToolkitVersions', () => {
  it("reads the version from each program's real output", () => {
    expect(parseToolkitVersions(CTK('1.17.4'))).toEqual(['1.17.4']);
    expect(parseToolkitVersions(HOOK('1.16.2'))).toEqual(['1.16.2']);
    expect(parseToolkitVersions(CLI('1.17.4', '1.17.3'))).toEqual(['1.17.4', '1.17.3']);
    expect(parseToolkitVersions(CTK('1.17.0-rc.2'))).toEqual(['1.17.0-rc.2']);
    expect(parseToolkitVersions('usage: nvidia-ctk [global options] command')).toEqual([]);
  });

  it('compares against 1.17.4 as versions, not as text', () => {
    expect(toolkitVersionIsSafe('1.17.4')).toBe(true);
    expect(toolkitVersionIsSafe('1.17.10')).toBe(true);
    expect(toolkitVersionIsSafe('1.18.0')).toBe(true);
    expect(toolkitVersionIsSafe('1.17.3')).toBe(false);
    expect(toolkitVersionIsSafe('1.9.0')).toBe(false);
    expect(toolkitVersionIsSafe('1.17.4-rc.1')).toBe(false);
  });
});

describe('NvidiaToolkitCheck', () => {
  let bin: string;
  beforeEach(async () => {
    bin = await mkdtemp(join(tmpdir(), 'horde-fake-nvidia-'));
  });
  afterEach(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  async function fake(program: string, output: string, exitCode = 0): Promise<void> {
    const path = join(bin, program);
    await writeFile(path, `#!/bin/sh\n[ "$1" = --version ] || exit 64\n/bin/cat <<'OUT'\n${output}OUT\nexit ${exitCode}\n`);
    await chmod(path, 0o755);
  }

  const context: CheckContext = {
    jobUuid: 'j',
    executorClass: 'always_on.llm.a6000',
    image: null,
    timeLeftMs: () => 5_000,
    signal: new AbortController().signal,
    workDir: tmpdir(),
    logger,
  };
  // Only the fakes' directory on PATH: no real toolkit can answer.
  const check = () => new NvidiaToolkitCheck({ env: { PATH: bin } });
  const failure = async (): Promise<StartupCheckFailed> => {
    const error = await check()
      .run(context)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupCheckFailed);
    return error as StartupCheckFailed;
  };

  it('passes with toolkit 1.17.4 and reports the versions it read', async () => {
    await fake('nvidia-ctk', CTK('1.17.4'));
    await fake('nvidia-container-toolkit', HOOK('1.17.4'));
    await fake('nvidia-container-cli', CLI('1.17.4'));
    expect(await check().run(context)).toEqual({
      'nvidia-ctk': '1.17.4',
      'nvidia-container-toolkit': '1.17.4',
      'nvidia-container-cli': '1.17.4,1.17.4',
    });
  });

  it('passes with only nvidia-container-cli installed at a newer version', async () => {
    await fake('nvidia-container-cli', CLI('1.18.1'));
    expect(await check().run(context)).toEqual({ 'nvidia-container-cli': '1.18.1,1.18.1' });
  });

  it('fails on 1.17.3 (CVE-2025-23359) and names the program and version', async () => {
    await fake('nvidia-ctk', CTK('1.17.3'));
    const error = await failure();
    expect(error.check).toBe('nvidia_toolkit');
    expect(error.message).toBe('startup check nvidia_toolkit failed: nvidia-ctk is version 1.17.3, older than 1.17.4 (CVE-2025-23359)');
  });

  it('fails when any installed part is old, even if another is new', async () => {
    await fake('nvidia-ctk', CTK('1.17.4'));
    await fake('nvidia-container-cli', CLI('1.17.4', '1.16.2'));
    expect((await failure()).message).toMatch(/nvidia-container-cli is version 1\.16\.2, older than 1\.17\.4/);
  });

  it('fails on a release candidate of the fixed version', async () => {
    await fake('nvidia-ctk', CTK('1.17.4-rc.1'));
    expect((await failure()).message).toMatch(/1\.17\.4-rc\.1, older than 1\.17\.4/);
  });

  it('fails when the toolkit is not installed', async () => {
    expect((await failure()).message).toMatch(
      /the NVIDIA Container Toolkit is not installed \(none of nvidia-ctk, nvidia-container-toolkit, nvidia-container-cli is on PATH\)/,
    );
  });

  it('fails when the program answers without a version, or with an error', async () => {
    await fake('nvidia-ctk', 'something else entirely\n');
    expect((await failure()).message).toMatch(/nvidia-ctk --version names no version/);
    await rm(join(bin, 'nvidia-ctk'));
    await fake('nvidia-container-cli', 'nvidia-container-cli: initialization error\n', 1);
    expect((await failure()).message).toMatch(/nvidia-container-cli --version failed/);
  });
});

describe('nvidia_toolkit kept per boot', () => {
  let bin: string;
  let cacheDir: string;
  const lines: Array<Record<string, unknown>> = [];
  const recording = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  beforeEach(async () => {
    bin = await mkdtemp(join(tmpdir(), 'horde-fake-nvidia-'));
    cacheDir = join(bin, 'cache');
    lines.length = 0;
  });
  afterEach(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  async function fake(program: string, output: string): Promise<void> {
    const path = join(bin, program);
    await writeFile(path, `#!/bin/sh\n/bin/cat <<'OUT'\n${output}OUT\n`);
    await chmod(path, 0o755);
  }

  /** One GPU job's toolkit check, through the startup checks an executor builds. */
  async function gpuJob(bootId = 'boot-1'): Promise<Record<string, unknown>> {
    const runner = new DockerJobRunner({ logger: recording, owner: { ...currentOwner(), bootId } });
    const suite = await createStartupChecks(runner, { enabled: ['nvidia_toolkit'], cacheDir, nvidia: { env: { PATH: bin } } }, recording);
    await suite.beforeGpuJob({
      jobUuid: 'j',
      executorClass: 'always_on.test',
      image: null,
      timeLeftMs: () => 5_000,
      signal: new AbortController().signal,
      workDir: tmpdir(),
      logger: recording,
    });
    return lines.filter((line) => line.check === 'nvidia_toolkit').at(-1)!;
  }

  it('runs the programs once per boot while they are the same files, and again after any change', async () => {
    await fake('nvidia-ctk', CTK('1.17.4'));
    expect(await gpuJob()).toMatchObject({ cached: false, 'nvidia-ctk': '1.17.4' });
    expect(await gpuJob()).toMatchObject({ cached: true, 'nvidia-ctk': '1.17.4' });
    expect(await gpuJob('boot-2')).toMatchObject({ cached: false });
    // A downgrade to a vulnerable toolkit (same path, same size): found at the next job.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fake('nvidia-ctk', CTK('1.17.3'));
    await expect(gpuJob()).rejects.toBeInstanceOf(StartupCheckFailed);
    // A program that appears on PATH is another toolkit too.
    await fake('nvidia-ctk', CTK('1.17.4'));
    expect(await gpuJob()).toMatchObject({ cached: false });
    await fake('nvidia-container-cli', CLI('1.17.4', '1.17.3'));
    await expect(gpuJob()).rejects.toThrow(/nvidia-container-cli is version 1.17.3/);
  });
});
