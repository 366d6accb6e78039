/**
 * vitest globalSetup: makes sure the real servers the integration tests use are up and tells the
 * test workers where they are, through environment variables (the workers inherit this process's
 * environment):
 *   HORDE_TEST_PG_URL        postgres://postgres@127.0.0.1:55432/postgres (make your own database:
 *                            see pgDatabase() in test/support/services.ts)
 *   DOCKER_HOST              unix socket of the test dockerd (image localhost/busybox:test inside)
 *   HORDE_TEST_S3_ENDPOINT   http://127.0.0.1:54321, plus HORDE_TEST_S3_ACCESS_KEY_ID/_SECRET_ACCESS_KEY/
 *                            _REGION/_BUCKET
 *   HORDE_TEST_SSH_*         sshd for the ssh executor manager
 *
 * The servers are started by `bash test/services/start.sh`, which writes their details to
 * /tmp/horde-test/services.env. When a service does not answer:
 *   - with `CI` set, the run FAILS (a CI run that silently skips integration tests proves nothing);
 *   - locally, this setup runs start.sh itself once; if that fails too, it warns and leaves the
 *     variables unset, so unit tests still run and each integration test fails with a message
 *     that says which service is missing and how to start it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { probeDocker, probePg, probeS3, probeTcp } from '../services/probe.mjs';

const START_SCRIPT = fileURLToPath(new URL('../services/start.sh', import.meta.url));

interface ServiceCheck {
  name: string;
  /** The variable that must be set for the service to count as configured. */
  variable: string;
  probe: (env: NodeJS.ProcessEnv) => Promise<void>;
}

const CHECKS: ServiceCheck[] = [
  { name: 'PostgreSQL', variable: 'HORDE_TEST_PG_URL', probe: (env) => probePg(env.HORDE_TEST_PG_URL!) },
  { name: 'dockerd', variable: 'DOCKER_HOST', probe: (env) => probeDocker(env.DOCKER_HOST!) },
  { name: 'S3 server', variable: 'HORDE_TEST_S3_ENDPOINT', probe: (env) => probeS3(env.HORDE_TEST_S3_ENDPOINT!) },
  {
    name: 'sshd',
    variable: 'HORDE_TEST_SSH_PORT',
    probe: (env) => probeTcp(env.HORDE_TEST_SSH_HOST ?? '127.0.0.1', env.HORDE_TEST_SSH_PORT!),
  },
];

/** KEY=VALUE lines; `#` comments and blank lines ignored. */
function readServicesFile(): Record<string, string> {
  const SERVICES_ENV = `${TEST_DIR}/services.env`;
  if (!existsSync(SERVICES_ENV)) return {};
  const values: Record<string, string> = {};
  for (const line of readFileSync(SERVICES_ENV, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

/** Where start.sh puts the services by default; probed when services.env is missing. */
const TEST_DIR = process.env.HORDE_TEST_DIR ?? '/tmp/horde-test';
const DEFAULTS: Record<string, string> = {
  HORDE_TEST_PG_URL: 'postgres://postgres@127.0.0.1:55432/postgres',
  DOCKER_HOST: 'unix:///tmp/hd/docker.sock',
  HORDE_TEST_DOCKER_IMAGE: 'localhost/busybox:test',
  HORDE_TEST_S3_ENDPOINT: 'http://127.0.0.1:54321',
  HORDE_TEST_S3_ACCESS_KEY_ID: 'S3RVER',
  HORDE_TEST_S3_SECRET_ACCESS_KEY: 'S3RVER',
  HORDE_TEST_S3_REGION: 'us-east-1',
  HORDE_TEST_S3_BUCKET: 'horde-test',
  HORDE_TEST_SSH_HOST: '127.0.0.1',
  HORDE_TEST_SSH_PORT: '55022',
  HORDE_TEST_SSH_USER: 'root',
  HORDE_TEST_SSH_KEY: `${TEST_DIR}/ssh/clientkey`,
};

/**
 * Values the developer already exported win (so tests can point at their own servers); then
 * services.env; then start.sh's defaults.
 */
function applyServicesFile(explicit: ReadonlySet<string>): void {
  for (const [key, value] of Object.entries({ ...DEFAULTS, ...readServicesFile() })) {
    if (!explicit.has(key)) process.env[key] = value;
  }
}

/** Names of the services that are not configured or do not answer, with the reason. */
async function missingServices(): Promise<string[]> {
  const results = await Promise.all(
    CHECKS.map(async (check) => {
      if (!process.env[check.variable]) return `${check.name} (${check.variable} is not set)`;
      try {
        await check.probe(process.env);
        return null;
      } catch (error) {
        return `${check.name} (${check.variable}=${process.env[check.variable]}: ${(error as Error).message})`;
      }
    }),
  );
  return results.filter((r): r is string => r !== null);
}

export default async function setup(): Promise<void> {
  // The pinned AWS SDK warns on every worker that later releases need Node 22; that is known (see
  // the README) and only buries test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const explicit = new Set(Object.keys(process.env).filter((k) => k.startsWith('HORDE_TEST_') || k === 'DOCKER_HOST'));
  applyServicesFile(explicit);
  let missing = await missingServices();
  if (missing.length === 0) return;

  if (process.env.CI) {
    throw new Error(
      `Test services are not running: ${missing.join('; ')}.\n` +
        `CI must start them before the tests (bash test/services/start.sh, as .ci/run does); integration tests are never skipped.`,
    );
  }

  console.warn(`[horde test setup] services not answering: ${missing.join('; ')}. Running ${START_SCRIPT} ...`);
  const started = spawnSync('bash', [START_SCRIPT], { stdio: 'inherit' });
  applyServicesFile(explicit);
  missing = await missingServices();
  if (started.status === 0 && missing.length === 0) return;

  console.warn(
    `[horde test setup] WARNING: still missing: ${missing.join('; ')}.\n` +
      `Integration tests that need them will fail. Install the apt packages listed in .ci/run and run ` +
      `\`bash test/services/start.sh\` (see its output for the reason).`,
  );
  // Leave the variables of missing services unset, so test/support/services.ts names the service.
  for (const check of CHECKS) {
    if (missing.some((m) => m.startsWith(check.name)) && !explicit.has(check.variable)) delete process.env[check.variable];
  }
}
