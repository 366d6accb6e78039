import { InvalidArgumentError, type Command } from 'commander';
import { definedFields } from '../../object/defined-fields.js';

interface ExecutorOptions {
  minerUrl: string;
  token: string;
  runner?: 'docker' | 'process';
  startupTimeLimit?: number;
  config?: string;
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return seconds;
}

function runnerKind(value: string): 'docker' | 'process' {
  if (value !== 'docker' && value !== 'process') throw new InvalidArgumentError('expected docker or process');
  return value;
}

/**
 * `horde executor --miner-url U --token T`: one executor agent, one job, then exit. Normally
 * started by the miner's executor manager, which passes the miner's `executor` settings in
 * `HORDE_EXECUTOR` (then it reads no config file: see `isExecutorLaunch`); by hand it reads them
 * from the config file like any command.
 */
export function register(program: Command): void {
  program
    .command('executor')
    .description('run one job for a miner: connect with the token, run the job, report, exit')
    .requiredOption('--miner-url <url>', 'the miner executor address, ws://host:port (MINER_ADDRESS)')
    .requiredOption('--token <token>', 'the single-use executor token the miner made (EXECUTOR_TOKEN)')
    .option('--runner <kind>', 'docker (isolated, default) or process (no isolation)', runnerKind)
    .option('--startup-time-limit <seconds>', 'seconds to receive the job and get the image ready', positiveSeconds)
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .action(async (options: ExecutorOptions) => {
      // Only what the agent needs before it connects; the runner (dockerode for `docker`) loads
      // once the connection is open, while the miner sends the job (see runExecutorAgent).
      const [{ agentSettingsFromEnv, isExecutorLaunch }, { processLogger }, { runExecutorAgent }] = await Promise.all([
        import('../../config/agent-settings.js'),
        import('../../container/process-logger.js'),
        import('../../executor/agent/run-executor-agent.js'),
      ]);
      // Started by a miner: its executor section is in the environment, and no config file is read.
      const config = isExecutorLaunch(process.env, options.config)
        ? agentSettingsFromEnv(process.env)
        : await (await import('../../config/index.js')).loadConfig(options.config ? { configPath: options.config } : {});
      const settings = config.executor;
      // Logger only (stdout, which the executor manager forwards): an executor has no store, chain,
      // plugins or dependency container, so it opens no process scope (`openProcess`) either.
      const logger = processLogger(config.log, 'executor');
      const runner = async () => {
        const { createJobRunner, pinnedGpus } = await import('../../executor/agent/create-runner.js');
        return createJobRunner({
          kind: options.runner ?? settings.runner,
          processImages: settings.processImages,
          limits: settings.jobLimits,
          // Pinned by a per-GPU executor manager (ssh `gpus`): its jobs get only that GPU.
          gpuDevices: pinnedGpus(process.env),
          logger,
        });
      };

      // SIGTERM from the executor manager: stop the job (the runner removes its container), report, exit.
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (stop.signal.aborted) process.exit(1);
        logger.warn({ signal }, 'stopping');
        stop.abort(new Error(`received ${signal}`));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);

      const outcome = await runExecutorAgent({
        minerUrl: options.minerUrl,
        token: options.token,
        runner,
        logger,
        signal: stop.signal,
        volumeMaxBytes: settings.volumeMaxBytes,
        outputMaxBytes: settings.outputMaxBytes,
        huggingfaceEndpoint: settings.huggingfaceEndpoint,
        egressAllowlist: settings.egressAllowlist,
        ...definedFields({
          huggingfaceToken: settings.huggingfaceToken || undefined,
          workRoot: settings.workDir || undefined,
          startupTimeLimitSeconds: options.startupTimeLimit,
        }),
        ...(settings.machineSpecs ? {} : { machineSpecs: async () => null }),
        streaming: { listenHost: settings.streamingHost, listenPort: settings.streamingPort },
        startupChecks: { enabled: settings.startupChecks, ...definedFields({ image: settings.startupCheckImage || undefined }) },
      });
      logger.info({ outcome }, 'executor done');
      // Failures of the job itself were reported to the miner: that is a normal end. A horde
      // failure (no miner, no job, executor trouble) exits 1.
      process.exitCode = outcome.status === 'horde_failed' ? 1 : 0;
    });
}
