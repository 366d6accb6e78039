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
import { executorMain } from '../dist/cli/executor-main.js';
import { agentSettingsFromEnv, isExecutorLaunch } from '../dist/config/agent-settings.js';
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
}
compileWhatEveryStartRuns();

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
