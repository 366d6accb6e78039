// What the executor agent's startup snapshot holds (see agent-snapshot.mjs): its entry and the
// modules it imports lazily, run once at `npm run build` so that each start begins with them
// compiled and initialised. A lazy module not listed here is still in the snapshot's bundle and
// loads when the agent first needs it, as unbundled; listing it only moves its set-up to the build.
// Listed: what every job runs (the agent, its settings and logger, the process runner). Not listed:
// what only some jobs run (volumes, uploads, TLS and the streaming proxy: each initialised module
// is heap that every start deserialises, ~6 ms for these four), and modules that load a package
// from node_modules when they are initialised (the docker runner loads dockerode; the config file
// loader, cosmiconfig), which a snapshot cannot hold.
import { startupSnapshot } from 'node:v8';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { executorMain } from '../dist/cli/executor-main.js';
import { agentSettingsFromEnv, isExecutorLaunch } from '../dist/config/agent-settings.js';
import { ExecutorJobDriver } from '../dist/executor/agent/job-driver.js';
import { createLogger } from '../dist/logging/index.js';
import { encodeMessage, parseMinerToExecutor } from '../dist/protocol/codec.js';
import '../dist/container/process-logger.js';
import '../dist/executor/agent/run-executor-agent.js';
import '../dist/executor/agent/create-runner.js';
import '../dist/executor/runners/process.js';

// Code run once is compiled when it first runs, and a snapshot keeps what was compiled: what every
// agent runs before the job (its settings' schema, the parse of the two requests, node's IPv6
// expression, which http uses on connect) is run here on samples, so that no start compiles it
// (~4 ms). Only pure functions: anything holding a native handle (a socket, a BlockList, a timer)
// cannot be in a snapshot, and the results are discarded.
function compileWhatEveryStartRuns() {
  agentSettingsFromEnv({ HORDE_EXECUTOR: JSON.stringify({ runner: 'process', machineSpecs: false }) });
  isIP('::1');
  const job = { job_uuid: '00000000-0000-4000-8000-000000000000', executor_class: 'always_on.test', docker_image: 'sample' };
  const timing = {
    allowed_leeway: 5,
    download_time_limit: 1,
    execution_time_limit: 1,
    upload_time_limit: 1,
    streaming_start_time_limit: 1,
  };
  parseMinerToExecutor(encodeMessage({ message_type: 'V0InitialJobRequest', ...job, executor_timing: timing }), { jitless: true });
  const request = { message_type: 'V0JobRequest', ...job, docker_run_options_preset: 'none', docker_run_cmd: [], env: {} };
  parseMinerToExecutor(encodeMessage(request), { jitless: true });
  return { initial: { message_type: 'V0InitialJobRequest', ...job, executor_timing: timing }, request };
}

/**
 * The same for the job's own path, which an agent runs once, so for the first time on every warm
 * job: the driver's stages, their deadlines, its log lines and the messages it encodes, run here
 * on a job that does nothing (a runner double that reports exit 0; the process runner's spawn
 * cannot run while a snapshot is built). Measured in one process, the driver spent 1.8 ms on its
 * first job, 0.5 on later ones. The build's event loop runs it to the end before the heap is
 * written; what stays is compiled code: the driver, its doubles and logger are dropped and its
 * work directory is removed.
 * No timer is set meanwhile: node does not carry a timer into a snapshot, and one set and cleared
 * would leave node's timer-list bookkeeping in the heap as of the build's clock. The stages'
 * deadlines run on a clock whose sleeps end only when cancelled, and a setTimeout or setInterval
 * fails the build (cli/executor-main.test.ts checks that an agent's own deadlines fire).
 */
async function rehearseAJob({ initial, request }) {
  let ready;
  const readied = new Promise((resolve) => (ready = resolve));
  const channel = {
    initialRequest: async () => initial,
    jobRequest: () => readied.then(() => request),
    send: async (message) => {
      encodeMessage(message);
      if (message.message_type === 'V0ExecutorReadyRequest') ready();
    },
  };
  const runner = {
    name: 'rehearsal',
    prepare: async () => {},
    run: async () => ({ exitCode: 0, timedOut: false, oomKilled: false, stdout: '', stderr: '', durationMs: 0 }),
  };
  const clock = {
    now: () => Date.now(),
    sleep: (_ms, signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
  };
  const outcome = await new ExecutorJobDriver({
    channel,
    runner,
    clock,
    logger: createLogger({ level: 'info', base: { role: 'executor' }, destination: { write() {} } }),
    startupTimeLimitSeconds: 5,
    volumeMaxBytes: 1,
    outputMaxBytes: 1,
    egress: {},
    machineSpecs: async () => null,
    workRoot: tmpdir(),
  }).run();
  if (outcome.status !== 'finished') throw new Error(`the rehearsed job ended ${JSON.stringify(outcome)}`);
}

/** Runs `work` with setTimeout and setInterval refused (see rehearseAJob), then puts them back. */
async function withoutTimers(work) {
  const kept = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval };
  const refuse = (name) => () => {
    throw new Error(`agent-snapshot: ${name}() during the rehearsed job: no timer may be set while the snapshot is built`);
  };
  const keptTimeout = AbortSignal.timeout;
  globalThis.setTimeout = refuse('setTimeout');
  globalThis.setInterval = refuse('setInterval');
  AbortSignal.timeout = refuse('AbortSignal.timeout');
  try {
    const result = await work();
    // A timer set another way (node:timers, a refusal swallowed by a catch) is still running here.
    const timers = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout');
    if (timers.length > 0) throw new Error(`agent-snapshot: ${timers.length} timer(s) left running by the rehearsed job`);
    return result;
  } finally {
    Object.assign(globalThis, kept);
    AbortSignal.timeout = keptTimeout;
  }
}

const samples = compileWhatEveryStartRuns();
withoutTimers(() => rehearseAJob(samples)).catch((error) => {
  process.stderr.write(`agent-snapshot: the rehearsed job failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});

/**
 * Started from the snapshot, argv is [node, ...arguments]: the CLI parser expects a script at [1].
 * Only a miner's launch runs here (agent-build.js picks the snapshot for those alone): an agent
 * that would read a config file needs `import()`, which a snapshot's code cannot call, so it is
 * told to start from the CLI instead of failing halfway.
 */
function main() {
  const args = process.argv.slice(1);
  const help = args.includes('--help') || args.includes('-h');
  const configPath = args.find((arg) => arg === '-c' || arg === '--config' || arg.startsWith('--config='));
  if (!help && !isExecutorLaunch(process.env, configPath)) {
    process.stderr.write(
      'horde: the executor agent\'s snapshot runs miner launches only (HORDE_EXECUTOR set, no config file); run "horde executor" (core/bin/horde.js) to read a config file\n',
    );
    process.exitCode = 1;
    return;
  }
  return executorMain([process.argv[0], 'horde', ...args]);
}
startupSnapshot.setDeserializeMainFunction(main);
