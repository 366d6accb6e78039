// `horde executor` goes through its own small entry (executor-main.ts) and, when a miner launched
// it, reads no config file. These tests run the built CLI (`npm test` builds first).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createServer as createHttpsServer } from 'node:https';
import { defaultExecutorCommand } from '../miner/executor-launch.js';
import { AGENT_EXTRA_CA_ENV } from '../net/extra-ca.js';
import { generateCertificate } from '../tls/index.js';

const bin = fileURLToPath(new URL('../../bin/horde.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'horde-executor-cli-'));
// A config file no loader accepts: a launch that read it would fail.
writeFileSync(join(cwd, 'horde.config.yaml'), 'executor: [this is: not, a section\n');
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HORDE_')));
  return { ...env, ...extra };
}

describe('horde executor (the agent-only entry)', () => {
  let server: WebSocketServer;
  let address: string;
  const paths: string[] = [];
  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    address = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
    server.on('connection', (socket, request) => {
      paths.push(request.url ?? '');
      // What a miner answers a token it does not know.
      socket.send(JSON.stringify({ message_type: 'GenericError', details: 'No job waiting for token' }));
      socket.close();
    });
  });
  afterAll(() => server.close());
  afterEach(() => {
    paths.length = 0;
  });

  async function agent(env: Record<string, string>, options: { bin?: string; node?: string[]; snapshot?: string } = {}) {
    const argv = [
      ...(options.node ?? []),
      ...(options.snapshot ? ['--snapshot-blob', options.snapshot] : [options.bin ?? bin]),
      'executor',
      '--miner-url',
      address,
      '--token',
      'tok-1',
      '--runner',
      'process',
    ];
    const child = spawn(process.execPath, argv, {
      cwd,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const [code] = await once(child, 'exit');
    return { code: code as number | null, output };
  }

  it("started by a miner (HORDE_EXECUTOR set), it connects with the miner's settings and never reads the config file", async () => {
    const result = await agent({ HORDE_EXECUTOR: JSON.stringify({ runner: 'process', machineSpecs: false }) });
    expect(paths).toEqual(['/v0.1/executor_interface/tok-1']);
    expect(result.output).toContain('the miner refused the executor');
    expect(result.output).not.toMatch(/config/i);
    expect(result.code).toBe(1); // a horde failure: no job
  });

  it('started by hand (no HORDE_EXECUTOR), it reads the config file like any command', async () => {
    const result = await agent({});
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/horde: .*horde\.config\.yaml/);
    expect(paths).toEqual([]);
  });

  it('a bad launch setting is a clear error naming the setting, before any connection', async () => {
    const result = await agent({ HORDE_EXECUTOR: JSON.stringify({ runner: 'podman' }) });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^horde: Invalid executor settings in the environment:/m);
    expect(result.output).toMatch(/runner/);
    expect(paths).toEqual([]);
  });

  const launched = { HORDE_EXECUTOR: JSON.stringify({ runner: 'process', machineSpecs: false }) };

  it('runs the bundle `npm run build` made (scripts/bundle-agent.mjs): no unbundled core module, no file of zod', async () => {
    const bundle = fileURLToPath(new URL('../../dist/agent-bundle/executor-main.js', import.meta.url));
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build (it bundles the agent with esbuild) first`);
    // Every module the agent loads, in order, and when it connected (a line from its ws socket).
    const hooks = join(cwd, 'hooks.mjs');
    writeFileSync(
      hooks,
      "import { writeSync } from 'node:fs';\nexport async function load(url, context, next) { writeSync(2, 'LOADED ' + url + '\\n'); return next(url, context); }\n",
    );
    const preload = join(cwd, 'preload.mjs');
    writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
    const result = await agent(launched, { node: ['--import', preload] });
    expect(paths).toEqual(['/v0.1/executor_interface/tok-1']);
    const loaded = result.output
      .split('\n')
      .filter((line) => line.startsWith('LOADED file:'))
      .map((line) => fileURLToPath(line.slice('LOADED '.length)));
    const core = fileURLToPath(new URL('../../', import.meta.url));
    const unbundled = loaded.filter((file) => file.startsWith(join(core, 'dist')) && !file.startsWith(join(core, 'dist/agent-bundle')));
    expect(unbundled).toEqual([]);
    expect(loaded.filter((file) => file.includes('/node_modules/zod/'))).toEqual([]);
    expect(loaded).toContain(bundle);
  });

  it('runs the unbundled entry when the bundle is older than the tsc build, or absent', async () => {
    // A copy of bin/ beside a link to the built dist/cli: only the bundle differs.
    const root = mkdtempSync(join(cwd, 'core-'));
    mkdirSync(join(root, 'bin'));
    copyFileSync(bin, join(root, 'bin/horde.js'));
    copyFileSync(join(bin, '../agent-build.js'), join(root, 'bin/agent-build.js'));
    const dist = fileURLToPath(new URL('../../dist', import.meta.url));
    mkdirSync(join(root, 'dist/agent-bundle'), { recursive: true });
    // node imports a module by its real path, so what dist/cli imports comes from the real dist.
    symlinkSync(join(dist, 'cli'), join(root, 'dist/cli'));
    writeFileSync(join(root, 'dist/agent-bundle/executor-main.js'), 'throw new Error("the stale bundle ran");\n');
    writeFileSync(join(root, 'dist/.tsbuildinfo'), '{}');
    const older = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'dist/agent-bundle/executor-main.js'), older, older);
    const stale = await agent(launched, { bin: join(root, 'bin/horde.js') });
    expect(stale.output).not.toContain('stale bundle');
    expect(stale.output).toContain('the miner refused the executor');
    expect(paths).toEqual(['/v0.1/executor_interface/tok-1']);

    rmSync(join(root, 'dist/agent-bundle'), { recursive: true });
    const absent = await agent(launched, { bin: join(root, 'bin/horde.js') });
    expect(absent.output).toContain('the miner refused the executor');
    expect(paths).toEqual(['/v0.1/executor_interface/tok-1', '/v0.1/executor_interface/tok-1']);
  });

  it('starts from the snapshot `npm run build` made (scripts/agent-snapshot.mjs), as the miner starts it', async () => {
    const snapshot = fileURLToPath(new URL('../../dist/agent-bundle/agent.blob', import.meta.url));
    if (!existsSync(snapshot)) throw new Error(`${snapshot} is missing: run npm run build (it makes the agent's snapshot) first`);
    expect(defaultExecutorCommand()).toEqual([process.execPath, '--snapshot-blob', snapshot]);
    const result = await agent(launched, { snapshot });
    expect(paths).toEqual(['/v0.1/executor_interface/tok-1']);
    expect(result.output).toContain('the miner refused the executor');
    expect(result.output).not.toMatch(/config/i);
    expect(result.code).toBe(1);
    // Settings are read when it runs, not when the snapshot was made.
    const bad = await agent({ HORDE_EXECUTOR: JSON.stringify({ runner: 'podman' }) }, { snapshot });
    expect(bad.output).toMatch(/^horde: Invalid executor settings in the environment:/m);
    const help = spawnSync(process.execPath, ['--snapshot-blob', snapshot, 'executor', '--help'], { encoding: 'utf8', env: cleanEnv({}) });
    expect(help.stdout).toMatch(/Usage: horde executor \[options\]/);
    // A launch that would read a config file is refused with a clear error, before any connection
    // (the miner never starts one from the snapshot: agent-build.test.ts).
    for (const env of [{ ...launched, HORDE_CONFIG: join(cwd, 'horde.config.yaml') }, {}]) {
      const configured = await agent(env, { snapshot });
      expect(configured.code).toBe(1);
      expect(configured.output).toMatch(/^horde: the executor agent's snapshot runs miner launches only/m);
    }
    expect(paths).toEqual(['/v0.1/executor_interface/tok-1']);
  });

  it('has the same help and argument errors as through the full CLI', () => {
    const help = spawnSync(process.execPath, [bin, 'executor', '--help'], { encoding: 'utf8', env: cleanEnv({}) });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: horde executor \[options\]/);
    expect(help.stdout).toContain('--miner-url <url>');
    const bad = spawnSync(process.execPath, [bin, 'executor', '--miner-url', address, '--token', 't', '--runner', 'podman'], {
      encoding: 'utf8',
      env: cleanEnv({}),
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('expected docker or process');
  });
});

describe('the agent started from its snapshot, with a job', () => {
  const JOB = '0b7b5c3e-4a8e-4f4e-9a53-0c4b1b0b2f61';
  const snapshot = fileURLToPath(new URL('../../dist/agent-bundle/agent.blob', import.meta.url));
  /** The job request of the job: run `true`, no volume. */
  const JOB_REQUEST = {
    message_type: 'V0JobRequest',
    job_uuid: JOB,
    executor_class: 'always_on.test',
    docker_image: 'local/true',
    docker_run_options_preset: 'none',
    docker_run_cmd: [],
    env: {},
  };

  /** A miner that hands out one job's initial request and records what the agent sends back; `onReady` may answer. */
  async function minerWithJob(onReady: (send: (message: object) => void) => void) {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const received: Array<Record<string, unknown>> = [];
    server.on('connection', (socket) => {
      const send = (message: object) => socket.send(JSON.stringify(message));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as Record<string, unknown>;
        received.push(message);
        if (message.message_type === 'V0ExecutorReadyRequest') onReady(send);
      });
      send({
        message_type: 'V0InitialJobRequest',
        job_uuid: JOB,
        executor_class: 'always_on.test',
        docker_image: 'local/true',
        job_started_receipt_payload: {
          receipt_type: 'JobStartedReceipt',
          job_uuid: JOB,
          miner_hotkey: 'miner',
          validator_hotkey: 'validator',
          timestamp: '2025-01-02T03:04:05Z',
          executor_class: 'always_on.test',
          is_organic: false,
          ttl: 30,
        },
        job_started_receipt_signature: '0x00',
        executor_timing: {
          allowed_leeway: 1,
          download_time_limit: 1,
          execution_time_limit: 1,
          upload_time_limit: 1,
          streaming_start_time_limit: 1,
        },
      });
    });
    return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, received, close: () => server.close() };
  }

  function runAgent(url: string, extra: { env?: Record<string, string>; executor?: Record<string, unknown> } = {}) {
    const child = spawn(
      process.execPath,
      [
        '--snapshot-blob',
        snapshot,
        'executor',
        '--miner-url',
        url,
        '--token',
        'tok-job',
        '--runner',
        'process',
        '--startup-time-limit',
        '5',
      ],
      {
        cwd,
        env: cleanEnv({
          HORDE_EXECUTOR: JSON.stringify({
            runner: 'process',
            machineSpecs: false,
            processImages: { 'local/true': ['true'] },
            ...extra.executor,
          }),
          ...extra.env,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    return once(child, 'exit').then(([code]) => ({ code: code as number | null, output }));
  }

  // The snapshot is made after a rehearsed job (scripts/agent-snapshot-entry.mjs): nothing it left
  // in the heap may change how the agent's own deadlines fire, or how its job runs.
  it('fires its deadlines: a job request that never comes ends as a download-stage timeout', async () => {
    const miner = await minerWithJob(() => {});
    try {
      const started = Date.now();
      const result = await runAgent(miner.url);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(miner.received.map((m) => m.message_type)).toEqual(['V0ExecutorReadyRequest', 'V0JobFailedRequest']);
      expect(miner.received[1]).toMatchObject({ reason: 'timeout', stage: 'volume_download' });
      expect(result.output).toContain('Download time exceeded');
    } finally {
      miner.close();
    }
  }, 20_000);

  it('runs a job in its standby shell and reports it finished', async () => {
    const miner = await minerWithJob((send) => send(JOB_REQUEST));
    try {
      const result = await runAgent(miner.url);
      expect(miner.received.map((m) => m.message_type)).toEqual([
        'V0ExecutorReadyRequest',
        'V0VolumesReadyRequest',
        'V0ExecutionDoneRequest',
        'V0JobFinishedRequest',
      ]);
      expect(result.code).toBe(0);
    } finally {
      miner.close();
    }
  }, 20_000);

  // The miner's NODE_EXTRA_CA_CERTS reaches its agents as HORDE_EXTRA_CA_CERTS (localAgentEnv); the
  // snapshot agent loads undici from node_modules for it at its first HTTPS transfer.
  it('downloads a volume over HTTPS from a server only HORDE_EXTRA_CA_CERTS vouches for', async () => {
    const { certPem, keyPem } = await generateCertificate('127.0.0.1');
    const caFile = join(cwd, 'extra-ca.pem');
    writeFileSync(caFile, certPem);
    const files = createHttpsServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('volume bytes'));
    files.listen(0, '127.0.0.1');
    await once(files, 'listening');
    const volumeUrl = `https://127.0.0.1:${(files.address() as { port: number }).port}/input.bin`;
    const run = async (env: Record<string, string>) => {
      const miner = await minerWithJob((send) =>
        send({ ...JOB_REQUEST, volume: { volume_type: 'single_file', url: volumeUrl, relative_path: 'input.bin' } }),
      );
      try {
        await runAgent(miner.url, { env, executor: { egressAllowlist: ['127.0.0.1'] } });
        return miner.received.map((m) => m.message_type);
      } finally {
        miner.close();
      }
    };
    try {
      expect(await run({ [AGENT_EXTRA_CA_ENV]: caFile, NODE_EXTRA_CA_CERTS: '' })).toEqual([
        'V0ExecutorReadyRequest',
        'V0VolumesReadyRequest',
        'V0ExecutionDoneRequest',
        'V0JobFinishedRequest',
      ]);
      // The same job without it: the server's certificate is refused, the download fails.
      expect(await run({ NODE_EXTRA_CA_CERTS: '' })).toEqual(['V0ExecutorReadyRequest', 'V0JobFailedRequest']);
    } finally {
      files.close();
    }
  }, 30_000);
});
