// dockerode without its BuildKit session and SSH transport at load time (dockerode-loader.ts).
// Each case runs in a fresh node process on core/dist (a module registry of its own; build first),
// since what counts is which modules a new executor agent loads.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const loader = fileURLToPath(new URL('../../../dist/executor/runners/dockerode-loader.js', import.meta.url));

function inFreshProcess(body: string): Record<string, unknown> {
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(loader)});
    const loaded = (part) => Object.keys(require.cache).some((path) => path.includes(part));
    const { default: Dockerode } = await import(${JSON.stringify(loader)});
    const out = {};
    ${body}
    process.stdout.write(JSON.stringify(out));
  `;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: process.env }),
  ) as Record<string, unknown>;
}

describe('dockerode loader', () => {
  it('loads dockerode without gRPC, protobufjs and ssh2, and it still talks to the engine', () => {
    const out = inFreshProcess(`
      out.grpc = loaded('/@grpc/'); out.protobuf = loaded('/protobufjs/'); out.ssh2 = loaded('/ssh2/');
      out.version = (await new Dockerode().version()).Version;
    `);
    expect(out).toMatchObject({ grpc: false, protobuf: false, ssh2: false });
    expect(out.version).toEqual(expect.any(String));
  });

  it("loads the BuildKit session module on its first call and runs dockerode's own code", () => {
    const out = inFreshProcess(`
      const withSession = require(require.resolve('dockerode/lib/session.js'));
      let dialled = null;
      const docker = { modem: { dial(options, callback) { dialled = options; callback(new Error('engine said no')); } } };
      const error = await new Promise((resolve) => withSession(docker, undefined, (err) => resolve(err)));
      out.path = dialled && dialled.path; out.error = error.message; out.grpc = loaded('/@grpc/grpc-js/');
    `);
    expect(out).toEqual({ path: '/session', error: 'engine said no', grpc: true });
  });

  it('loads the SSH transport when an ssh:// engine is used, and reports its real connection error', () => {
    const out = inFreshProcess(`
      const docker = new Dockerode({ protocol: 'ssh', host: '127.0.0.1', port: 1, username: 'nobody' });
      out.error = await docker.version().then(() => 'connected', (error) => String(error && (error.code || error.message)));
      out.ssh2 = loaded('/ssh2/');
    `);
    expect(out.ssh2).toBe(true);
    expect(out.error).toMatch(/ECONNREFUSED/);
  });
});
