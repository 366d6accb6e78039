// DockerJobRunner against the real test dockerd (test/services/start.sh) and its busybox image.
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobRunSpec } from '../../contracts/index.js';
import { docker, testImage } from '../../../../test/support/services.js';
import { collectArtifacts } from '../artifacts.js';
import { runSpec } from './__tests__/run-spec.js';
import { DockerJobRunner, GpuUnavailableError, ImageNotFoundError, withDefaultTag } from './docker.js';

const logger = pino({ level: 'silent' });

describe('DockerJobRunner', () => {
  let runner: DockerJobRunner;
  let dir: string;

  beforeAll(() => {
    runner = new DockerJobRunner({ docker: docker(), logger });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-docker-'));
    for (const d of ['volume', 'output', 'artifacts']) await mkdir(join(dir, d));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const spec = (overrides: Partial<JobRunSpec> = {}) => runSpec(dir, testImage(), ['true'], overrides);

  async function containerExists(jobUuid: string): Promise<boolean> {
    return docker()
      .getContainer(`horde-${jobUuid}-job`)
      .inspect()
      .then(
        () => true,
        () => false,
      );
  }

  it('reports the exit code and separate stdout / stderr, and removes the container', async () => {
    const s = spec({ command: ['sh', '-c', 'echo "hello $WHO"; echo oops >&2; exit 3'], env: { WHO: 'horde' } });
    const outcome = await runner.run(s);
    expect(outcome).toMatchObject({ exitCode: 3, timedOut: false, oomKilled: false, stdout: 'hello horde\n', stderr: 'oops\n' });
    expect(outcome.durationMs).toBeGreaterThan(0);
    expect(await containerExists(s.jobUuid)).toBe(false);
  });

  it('reads /volume, and files written to /output and the artifacts path appear on the host', async () => {
    await writeFile(join(dir, 'volume', 'input.txt'), 'volume data');
    const outcome = await runner.run(
      spec({
        command: ['sh', '-c', 'cat /volume/input.txt | tr a-z A-Z > /output/result.txt && echo 42 > /artifacts/answer.txt'],
      }),
    );
    expect(outcome.exitCode).toBe(0);
    expect(await readFile(join(dir, 'output', 'result.txt'), 'utf8')).toBe('VOLUME DATA');
    const artifacts = await collectArtifacts(join(dir, 'artifacts'), '/artifacts');
    expect(Buffer.from(artifacts['/artifacts/answer.txt']!, 'base64').toString()).toBe('42\n');
  });

  it('mounts raw_script at /script.py; without a command it runs `python /script.py`', async () => {
    const viaSh = await runner.run(spec({ rawScript: 'echo from script', command: ['sh', '/script.py'] }));
    expect(viaSh).toMatchObject({ exitCode: 0, stdout: 'from script\n' });

    // busybox has no python: the default command fails the way `docker run` reports it (exit 127).
    const s = spec({ rawScript: 'print(1)', command: [] });
    const outcome = await runner.run(s);
    expect(outcome.exitCode).toBe(127);
    expect(outcome.stderr).toMatch(/python/);
    expect(await containerExists(s.jobUuid)).toBe(false);
  });

  it('runs the image default command when the command is empty', async () => {
    // The image's CMD is /bin/sh, which exits at once with no stdin.
    const outcome = await runner.run(spec({ command: [] }));
    expect(outcome.exitCode).toBe(0);
  });

  it('kills a job that passes its time limit and removes the container', async () => {
    const s = spec({ command: ['sh', '-c', 'echo started; sleep 60'], timeoutMs: 700 });
    const started = Date.now();
    const outcome = await runner.run(s);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcome).toMatchObject({ exitCode: null, timedOut: true, stdout: 'started\n' });
    expect(await containerExists(s.jobUuid)).toBe(false);
  });

  it('kills the job when the signal aborts', async () => {
    const controller = new AbortController();
    const s = spec({ command: ['sleep', '60'], signal: controller.signal });
    setTimeout(() => controller.abort(), 500);
    const outcome = await runner.run(s);
    expect(outcome).toMatchObject({ exitCode: null, timedOut: false });
    expect(await containerExists(s.jobUuid)).toBe(false);
  });

  describe('with a server on the host', () => {
    let server: Server;
    let hostIp: string;
    let port: number;
    beforeAll(async () => {
      server = createServer((_req, res) => res.end('reachable'));
      await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
      port = (server.address() as AddressInfo).port;
      hostIp =
        Object.values(networkInterfaces())
          .flat()
          .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('gives the job no network: only loopback, and the host is unreachable', async () => {
      // The host itself can reach the server...
      expect(await (await fetch(`http://${hostIp}:${port}/`)).text()).toBe('reachable');
      // ...the job cannot.
      const outcome = await runner.run(
        spec({
          command: ['sh', '-c', `ls /sys/class/net; wget -q -T 3 -O - http://${hostIp}:${port}/ && echo GOT-THROUGH || echo blocked`],
        }),
      );
      expect(outcome.stdout.split('\n').filter(Boolean)).toEqual(['lo', 'blocked']);
    });
  });

  it('enforces the memory limit (OOM kill is reported)', async () => {
    // The shell keeps the command substitution in memory: 256 MiB against a 32 MiB limit.
    const outcome = await runner.run(
      spec({
        command: ['sh', '-c', 'x=$(head -c 268435456 /dev/zero | tr "\\0" a); echo survived'],
        limits: { memoryBytes: 32 * 1024 * 1024 },
      }),
    );
    expect(outcome.oomKilled).toBe(true);
    expect(outcome.exitCode).toBe(137);
    expect(outcome.stdout).not.toContain('survived');
  });

  it('enforces the pids limit', async () => {
    const outcome = await runner.run(
      spec({
        command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait; echo done'],
        limits: { pids: 5 },
        timeoutMs: 15_000,
      }),
    );
    expect(outcome.stderr).toMatch(/can't fork|Resource temporarily unavailable/i);
  });

  it('removes a leftover container with the same name before running', async () => {
    const s = spec({ command: ['echo', 'fresh'] });
    await docker().createContainer({ name: `horde-${s.jobUuid}-job`, Image: testImage(), Cmd: ['true'] });
    const outcome = await runner.run(s);
    expect(outcome).toMatchObject({ exitCode: 0, stdout: 'fresh\n' });
    expect(await containerExists(s.jobUuid)).toBe(false);
  });

  it('prepare() accepts a local image and reports a missing one as HORDE_IMAGE_NOT_FOUND', async () => {
    await runner.prepare(testImage());
    const error = await runner.prepare('localhost/horde-no-such-image:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect(error).toMatchObject({ code: 'HORDE_IMAGE_NOT_FOUND' });
    expect((error as Error).message).toMatch(/localhost\/horde-no-such-image:1 is not on this executor and could not be pulled/);
  });

  it('prepare() gives up a pull that passes pullTimeoutMs and closes its request to the engine', async () => {
    // A "registry" that accepts connections and never answers: the engine's pull hangs on it.
    const registry = createNetServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    // The engine, seen through a proxy that notes when each of the runner's requests to it ends.
    const engine = (docker().modem as unknown as { socketPath: string }).socketPath;
    const proxyPath = join(dir, 'engine.sock');
    const pulls: Array<{ closedAt: number | null }> = [];
    const proxy = createNetServer((client) => {
      const upstream = connect(engine);
      const seen = { closedAt: null as number | null };
      // Connections are kept alive: the pull may follow the image inspect on the same one.
      client.on('data', (chunk: Buffer) => {
        if (/POST \S*\/images\/create/.test(chunk.toString('latin1')) && !pulls.includes(seen)) pulls.push(seen);
      });
      client.on('close', () => {
        seen.closedAt = Date.now();
        upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(proxyPath, resolve));
    try {
      const quick = new DockerJobRunner({ docker: new Dockerode({ socketPath: proxyPath }), logger, pullTimeoutMs: 300 });
      const image = `127.0.0.1:${(registry.address() as AddressInfo).port}/horde/never:1`;
      const started = Date.now();
      const error = await quick.prepare(image).catch((e: unknown) => e);
      const failedAt = Date.now();
      expect(error).toBeInstanceOf(ImageNotFoundError);
      expect((error as Error).message).toMatch(/pull did not finish within 300 ms/);
      expect(failedAt - started).toBeLessThan(3_000);
      // The pull request itself is gone at once, not left running until the engine gives up (10 s and more here).
      expect(pulls).toHaveLength(1);
      await expect.poll(() => pulls[0]!.closedAt, { timeout: 2_000, interval: 20 }).not.toBeNull();
      expect(pulls[0]!.closedAt! - failedAt).toBeLessThan(1_000);
    } finally {
      proxy.close();
      registry.close();
    }
  });

  it('run() of a missing image fails with HORDE_IMAGE_NOT_FOUND', async () => {
    const error = await runner.run(spec({ image: 'localhost/horde-no-such-image:1' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
  });

  it('maps a missing GPU runtime (preset nvidia_all) to HORDE_GPU_UNAVAILABLE and cleans up', async () => {
    const s = spec({ preset: 'nvidia_all', command: ['true'] });
    const error = await runner.run(s).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuUnavailableError);
    expect(error).toMatchObject({ code: 'HORDE_GPU_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/could not select device driver "nvidia"/);
    expect(await containerExists(s.jobUuid)).toBe(false);
  });

  it('asks the engine for every GPU, or only its own when the executor was pinned (--gpus device=N)', () => {
    class Inspectable extends DockerJobRunner {
      gpuRequests(preset: JobRunSpec['preset']): unknown {
        return this.hostConfig(spec({ preset }), []).DeviceRequests;
      }
    }
    expect(new Inspectable({ docker: docker(), logger }).gpuRequests('nvidia_all')).toEqual([
      { Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] },
    ]);
    const pinned = new Inspectable({ docker: docker(), logger, gpuDevices: ['1'] });
    expect(pinned.gpuRequests('nvidia_all')).toEqual([{ Driver: 'nvidia', DeviceIDs: ['1'], Capabilities: [['gpu']] }]);
    expect(pinned.gpuRequests('none')).toBeUndefined();
  });

  it('adds :latest to untagged images, as docker pull does', () => {
    expect(withDefaultTag('busybox')).toBe('busybox:latest');
    expect(withDefaultTag('localhost:5000/team/img')).toBe('localhost:5000/team/img:latest');
    expect(withDefaultTag('localhost:5000/team/img:v1')).toBe('localhost:5000/team/img:v1');
    expect(withDefaultTag('img@sha256:abc')).toBe('img@sha256:abc');
  });
});
