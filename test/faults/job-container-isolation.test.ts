/**
 * Fault suite: a job container, made by horde's docker runner exactly as an executor makes it,
 * cannot reach the miner, another service on the host, the Docker socket or host files outside its
 * binds, on an engine whose bridge network works (bridge-engine.ts). The same probe in a container
 * given the bridge reaches the miner and the service: that is what makes this test able to fail.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/src/logging/index.js';
import { DockerJobRunner } from '../../core/src/executor/runners/docker.js';
import { startTestMiner, type TestMiner } from '../support/miner-harness.js';
import { docker as testDocker, testImage } from '../support/services.js';
import { BRIDGE_GATEWAY, copyImage, startBridgeEngine, type BridgeEngine } from './bridge-engine.js';

/** Prints one `name=value` line per thing a job must not reach (and its own volume, which it must). */
const PROBE = [
  'http() { printf "GET $2 HTTP/1.0\\r\\n\\r\\n" | nc -w 2 "$HOST" "$1" 2>/dev/null | head -1 | tr -d "\\r"; }',
  'echo "miner=$(http $MINER_PORT /healthz)"',
  'echo "service=$(http $SERVICE_PORT /)"',
  'echo "gateway=$(ping -c 1 -W 2 $HOST >/dev/null 2>&1 && echo up || echo down)"',
  'echo "socket=$(for s in /var/run/docker.sock /run/docker.sock $ENGINE_SOCKET; do [ -S "$s" ] && echo "$s"; done)"',
  'echo "secret=$(cat "$SECRET_PATH" 2>/dev/null)"',
  'echo "volume=$(cat /volume/input.txt)"',
].join('\n');

function parse(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('a job container on an engine with a working bridge network', () => {
  let engine: BridgeEngine;
  let miner: TestMiner;
  let service: Server;
  let servicePort: number;
  let work: string;
  const secret = randomBytes(12).toString('hex');
  let secretPath: string;

  beforeAll(async () => {
    engine = await startBridgeEngine();
    await copyImage(testDocker(), engine.docker, testImage());
    // Both listen on every address, so the bridge's gateway address reaches them.
    miner = await startTestMiner({ dialect: 'sqlite', runner: 'docker', miner: { host: '0.0.0.0' } });
    service = createServer((_req, res) => res.end('host service'));
    await new Promise<void>((resolve) => service.listen(0, '0.0.0.0', resolve));
    servicePort = (service.address() as { port: number }).port;
    work = mkdtempSync(join(tmpdir(), 'horde-isolation-'));
    secretPath = join(work, 'secret.txt');
    writeFileSync(secretPath, secret);
  }, 120_000);
  afterAll(async () => {
    await miner?.close();
    await new Promise((resolve) => service?.close(resolve));
    await engine?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('reaches none of them, while a container on the bridge reaches the miner and the service', async () => {
    const env = {
      HOST: BRIDGE_GATEWAY,
      MINER_PORT: String(miner.miner.port),
      SERVICE_PORT: String(servicePort),
      ENGINE_SOCKET: engine.socketPath,
      SECRET_PATH: secretPath,
    };
    const dirs = { volumeDir: join(work, 'volume'), outputDir: join(work, 'output'), artifactsDir: join(work, 'artifacts') };
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dirs.volumeDir, 'input.txt'), 'job input');

    // The control: the probe with the bridge, as a careless runner would start it.
    const control = await engine.docker.createContainer({
      Image: testImage(),
      Cmd: ['sh', '-c', PROBE],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Tty: true, // plain output, no multiplexing headers
      HostConfig: { NetworkMode: 'bridge', Binds: [`${dirs.volumeDir}:/volume:ro`] },
    });
    await control.start();
    await control.wait();
    const controlLogs = (await control.logs({ stdout: true, stderr: true })).toString('utf8').replace(/\r/g, '');
    await control.remove({ force: true });
    const reachable = parse(controlLogs);
    expect(reachable.miner, 'control container reaches the miner over the bridge').toMatch(/^HTTP\/1\.[01] 200/);
    expect(reachable.service, 'control container reaches the host service').toMatch(/^HTTP\/1\.[01] 200/);
    expect(reachable.gateway).toBe('up');

    // The job: horde's docker runner, the job's spec as the executor builds it.
    const runner = new DockerJobRunner({ docker: engine.docker, logger: silentLogger() });
    const outcome = await runner.run({
      jobUuid: randomUUID(),
      image: testImage(),
      command: ['sh', '-c', PROBE],
      env,
      preset: 'none',
      ...dirs,
      artifactsMountPath: '/artifacts',
      network: 'none',
      timeoutMs: 30_000,
    });
    expect(outcome.exitCode, outcome.stderr).toBe(0);
    const job = parse(outcome.stdout);
    console.log(
      `[faults] isolation on a bridge engine: control ${JSON.stringify({ miner: reachable.miner, service: reachable.service })}, job ${JSON.stringify(job)}`,
    );
    expect(job).toEqual({ miner: '', service: '', gateway: 'down', socket: '', secret: '', volume: 'job input' });
  }, 120_000);
});
