/**
 * Streaming jobs end to end over real sockets and the real Docker engine: a client with the SDK →
 * the facilitator → the validator → a horde miner whose executor is a `horde executor` process
 * with the docker runner. The job's server (busybox httpd in `localhost/busybox:test`) sits on
 * a Docker network of its own with no route out; the executor's TLS proxy in front of it admits
 * only the certificate the SDK made for this job. The miner signs the executor's address and
 * port, the facilitator stores them with the server certificate, `waitForStreaming()` returns
 * them. (core/src/executor/agent/streaming.test.ts is the fast variant with the process runner.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { executorSection } from '../../core/src/config/sections/executor.js';
import { facilitatorSection } from '../../core/src/config/sections/facilitator.js';
import { minerSection } from '../../core/src/config/sections/miner.js';
import { validatorSection } from '../../core/src/config/sections/validator.js';
import type { HardwareClass, Store } from '../../core/src/contracts/index.js';
import { createFacilitator, type FacilitatorHandle } from '../../core/src/facilitator/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { createLogger, silentLogger } from '../../core/src/logging/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { createMiner, type RunningMiner } from '../../core/src/miner/miner.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { generateCertificate, parseCertificate } from '../../core/src/tls/index.js';
import { createValidator, type ValidatorHandle } from '../../core/src/validator/index.js';
import { HordeClient, StreamingNotReadyError, type HordeJob, type HordeJobSpec, type StreamingTlsOptions } from '@horde/core/sdk';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { CLASSIC_RULES, classicRule, scoringClassicConfig } from '../../plugins/scoring-classic/src/index.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { docker, testImage } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const NETUID = 12;
const TEST = 'always_on.test';

/**
 * The job: busybox httpd on `$HORDE_STREAMING_PORT` with `/health`, a CGI `/cgi-bin/echo` that
 * upper-cases the request body and `/cgi-bin/terminate` that ends the job.
 */
const SERVER_SCRIPT = [
  'set -e',
  'mkdir -p /tmp/www/cgi-bin',
  'echo ok > /tmp/www/health',
  // CGI headers end in CRLF (HTTP parsers insist); `%s` keeps the outer printf from reading them.
  `printf '%s\\n' '#!/bin/sh' 'printf "Content-Type: text/plain\\r\\n\\r\\n"' 'head -c "$CONTENT_LENGTH" | tr a-z A-Z' > /tmp/www/cgi-bin/echo`,
  `printf '%s\\n' '#!/bin/sh' 'printf "Content-Type: text/plain\\r\\n\\r\\n"' 'echo bye' 'touch /tmp/stop' > /tmp/www/cgi-bin/terminate`,
  'chmod +x /tmp/www/cgi-bin/echo /tmp/www/cgi-bin/terminate',
  'httpd -p "$HORDE_STREAMING_PORT" -h /tmp/www',
  // The job cannot reach anything outside its network (no route out).
  'if wget -q -T 2 -O /dev/null http://1.1.1.1/ 2>/dev/null; then echo "egress: open"; else echo "egress: none"; fi',
  'while [ ! -f /tmp/stop ]; do sleep 0.2; done',
  'echo "served until terminated"',
].join('\n');

const logger = process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger();
const clock = new SystemClock();
const dataDir = mkdtempSync(join(tmpdir(), 'horde-streaming-e2e-'));
const stores: Store[] = [];
const chains: LocalChain[] = [];
let miner: RunningMiner;
let facilitator: FacilitatorHandle;
let validator: ValidatorHandle;
let client: HordeClient;

async function store(name: string): Promise<Store> {
  const opened = await openStore({ client: 'sqlite', filename: join(dataDir, `${name}.sqlite`) });
  stores.push(opened);
  return opened;
}

async function chainFor(chainStore: Store, hotkey?: Hotkey): Promise<LocalChain> {
  const chain = await LocalChain.open({ store: chainStore, netuid: NETUID, ...(hotkey ? { hotkey: hotkey.ss58 } : {}) });
  chains.push(chain);
  return chain;
}

beforeAll(async () => {
  requireBuiltCli();
  await docker().ping();
  const [v, m, c] = await Promise.all(['//StreamValidator', '//StreamMiner', '//StreamClient'].map((uri) => loadHotkey({ uri })));
  const chainStore = await store('chain');
  await LocalChain.init(chainStore, { blockTimeMs: 250, subnets: [{ netuid: NETUID }] });
  const admin = await chainFor(chainStore);
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: v!.ss58, coldkey: v!.ss58, stake: 100_000, validatorPermit: true });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: m!.ss58, coldkey: m!.ss58 });

  miner = await createMiner({
    settings: minerSection.parse({ host: '127.0.0.1', port: 0, manifestCommitIntervalSeconds: 0, executorStartupTimeLimitSeconds: 60 }),
    executorSettings: executorSection.parse({
      runner: 'docker',
      machineSpecs: false,
      streamingHost: '127.0.0.1',
      jobLimits: { memoryBytes: 64 * 1024 * 1024 },
    }),
    hotkeys: [m!],
    store: await store('miner'),
    chain: await chainFor(chainStore, m!),
    netuid: NETUID,
    // The executors' public address: the miner signs it into the streaming details.
    executorManager: new LocalExecutorManager({
      executorClass: TEST,
      executors: 2,
      killGraceMs: 5_000,
      logger,
      publicAddress: '127.0.0.1',
    }),
    dancingStrategy: null,
    hardwareClasses: HARDWARE_CLASSES as HardwareClass[],
    dataDir: join(dataDir, 'miner'),
    logger: logger.child({ role: 'miner' }),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock,
  });
  await (await chainFor(chainStore, m!)).serveAxon(NETUID, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 1 });

  facilitator = await createFacilitator({
    settings: facilitatorSection.parse({ host: '127.0.0.1', port: 0, hotkeyWhitelist: [c!.ss58] }),
    store: await store('facilitator'),
    chain: await chainFor(chainStore),
    netuid: NETUID,
    logger: logger.child({ role: 'facilitator' }),
    clock,
  });
  validator = await createValidator({
    hotkey: v!,
    chain: await chainFor(chainStore, v!),
    store: await store('validator'),
    netuid: NETUID,
    settings: validatorSection.parse({
      cycleLengthBlocks: 100_000,
      jobResponseSlackSeconds: 10,
      organicCrossCheckFraction: 0,
      organic: { facilitatorUrl: `${facilitator.url!.replace(/^http/, 'ws')}/ws/v0/`, whitelist: [c!.ss58] },
    }),
    generators: [],
    hardwareClasses: HARDWARE_CLASSES as HardwareClass[],
    scoringRules: CLASSIC_RULES.map((name) => classicRule(name, scoringClassicConfig.parse({ classWeights: { [TEST]: 1 } }))),
    logger: logger.child({ role: 'validator' }),
    clock,
    autoRun: false,
  });
  await waitFor('the validator to log in to the facilitator', () => (validator.organic?.connected ? true : undefined));
  client = new HordeClient({ hotkey: c!, validatorHotkey: v!.ss58, facilitatorUrl: facilitator.url!, pollIntervalMs: 200 });
}, 120_000);

afterAll(async () => {
  await validator?.close();
  await facilitator?.close();
  await miner?.close().catch(() => undefined);
  for (const chain of chains) await chain.close().catch(() => undefined);
  for (const opened of stores) await opened.close().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const SPEC: HordeJobSpec = {
  executorClass: TEST,
  image: testImage(),
  args: ['sh', '-c', SERVER_SCRIPT],
  streaming: true,
  downloadTimeLimitSec: 5,
  executionTimeLimitSec: 60,
  uploadTimeLimitSec: 5,
  streamingStartTimeLimitSec: 20,
};

function call(tls: StreamingTlsOptions, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { ...tls, method, path, agent: false, timeout: 15_000, headers: body ? { 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('streaming jobs end to end (SDK → facilitator → validator → miner → executor → Docker)', () => {
  it('connects the client to its job over mTLS, refuses another certificate, and sees the job end', async () => {
    const job: HordeJob = await client.createJob(SPEC);
    const server = await job.waitForStreaming({ timeoutMs: 90_000 });
    // The executor's certificate, made for the address the miner signed (its manager's publicAddress).
    expect(server.address).toBe('127.0.0.1');
    expect(parseCertificate(server.certPem).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(job.statusHistory.map((s) => s.status)).toContain('streaming_ready');

    // Full verification: the server certificate is the only CA and the host name (IP) matches.
    const tls = job.streamingTlsOptions();
    expect(await call(tls, 'POST', '/cgi-bin/echo', 'hello streaming')).toEqual({ status: 200, body: 'HELLO STREAMING' });
    expect(await call(tls, 'POST', '/cgi-bin/echo', 'second request')).toEqual({ status: 200, body: 'SECOND REQUEST' });

    // A client with another certificate (self-signed, same names) never reaches the job.
    const stranger = await generateCertificate('127.0.0.1');
    const refused = await call({ ...tls, cert: stranger.certPem, key: stranger.keyPem }, 'POST', '/cgi-bin/echo', 'let me in').then(
      (reply) => `answered ${reply.status}`,
      (error: Error) => error.message,
    );
    expect(refused).not.toMatch(/^answered/);

    expect(await call(tls, 'GET', '/cgi-bin/terminate')).toEqual({ status: 200, body: 'bye\n' });
    await job.wait({ timeoutMs: 60_000 });
    expect(job.status).toBe('completed');
    expect(job.result?.stdout).toBe('egress: none\nserved until terminated\n');
    expect(job.statusHistory.map((s) => s.status)).toEqual([
      'sent',
      'received',
      'accepted',
      'executor_ready',
      'volumes_ready',
      'streaming_ready',
      'execution_done',
      'completed',
    ]);
    // The facilitator keeps what the miner signed.
    const stored = await client.getJob(job.uuid);
    expect(stored.streaming).toEqual(server);
    // The job's network went with it.
    const leftovers = await docker().listNetworks({ filters: { label: [`horde.job-uuid=${job.uuid}`] } });
    expect(leftovers).toEqual([]);
  }, 180_000);

  it('fails a job whose server never becomes healthy with streaming_job_ready_timed_out', async () => {
    const job = await client.createJob({ ...SPEC, args: ['sh', '-c', 'sleep 60'], streamingStartTimeLimitSec: 3 });
    const error = await job.waitForStreaming({ timeoutMs: 90_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamingNotReadyError);
    expect(job.status).toBe('horde_failed');
    expect(job.statusHistory.at(-1)?.metadata?.horde_failure_details).toMatchObject({
      reported_by: 'validator',
      reason: 'streaming_job_ready_timed_out',
    });
    expect(job.streaming).toBeNull();
  }, 180_000);
});
