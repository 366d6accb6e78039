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
import { defaultExecutorCommand } from '../miner/executor-launch.js';

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
