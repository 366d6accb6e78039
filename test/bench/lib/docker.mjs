// The test dockerd for the docker benchmarks (started by `bash test/services/start.sh`, as for the
// tests): DOCKER_HOST from the environment, else from start.sh's services.env, else its default.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import Dockerode from 'dockerode';
import { servicesEnv } from './services.mjs';

const env = servicesEnv();
export const DOCKER_HOST = process.env.DOCKER_HOST ?? env.DOCKER_HOST ?? 'unix:///tmp/hd/docker.sock';
export const TEST_IMAGE = process.env.HORDE_TEST_DOCKER_IMAGE ?? env.HORDE_TEST_DOCKER_IMAGE ?? 'localhost/busybox:test';

/** A dockerode client for the test engine; fails with what to run when it does not answer. */
export async function testDocker() {
  const docker = DOCKER_HOST.startsWith('unix://')
    ? new Dockerode({ socketPath: DOCKER_HOST.slice('unix://'.length) })
    : new Dockerode({
        host: new URL(DOCKER_HOST.replace(/^tcp:/, 'http:')).hostname,
        port: Number(new URL(DOCKER_HOST.replace(/^tcp:/, 'http:')).port),
      });
  try {
    await docker.ping();
    await docker.getImage(TEST_IMAGE).inspect();
  } catch (error) {
    throw new Error(
      `the test dockerd (${DOCKER_HOST}) with ${TEST_IMAGE} is not available (${error.message}): run bash test/services/start.sh`,
    );
  }
  return docker;
}

/** Milliseconds of one `docker run --rm` of `args` on the test engine (the CLI, as an operator runs it). */
export async function dockerRunMs(args) {
  const start = performance.now();
  const child = spawn('docker', ['run', '--rm', ...args], { env: { ...process.env, DOCKER_HOST }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`docker run --rm ${args.join(' ')} exited ${code}: ${stderr}`);
  return performance.now() - start;
}
