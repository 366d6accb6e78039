import type { Command } from 'commander';
import { stopRequested } from './shared.js';

interface RunOptions {
  config?: string;
  port?: number;
  workers?: string;
}

async function runFacilitator(options: RunOptions): Promise<void> {
  const stopped = stopRequested();
  const [{ loadConfig }, { startFacilitator }] = await Promise.all([
    import('../../config/index.js'),
    import('../../facilitator/from-config.js'),
  ]);
  const loaded = await loadConfig(options.config ? { configPath: options.config } : {});
  const workers = options.workers === undefined ? undefined : Number(options.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    process.stderr.write(`--workers must be a whole number of at least 1, got ${options.workers}\n`);
    process.exitCode = 1;
    return;
  }
  const workersSection =
    workers !== undefined ? { ...loaded.facilitator.workers, enabled: true, processes: workers } : loaded.facilitator.workers;
  const config = {
    ...loaded,
    role: 'facilitator' as const,
    facilitator: { ...loaded.facilitator, workers: workersSection, ...(options.port === undefined ? {} : { port: options.port }) },
  };
  if (workersSection.enabled && workersSection.processes > 1) {
    if (config.store.client !== 'postgres') {
      // The same refusal as one worker's (FacilitatorWorkers.open), before any process is forked.
      const { FacilitatorWorkersError } = await import('../../facilitator/workers/errors.js');
      throw new FacilitatorWorkersError(
        'HORDE_FACILITATOR_WORKERS_NEED_POSTGRES',
        'facilitator.workers needs store.client "postgres" with store.url: the workers share jobs and claims through PostgreSQL (SQLite serves one process only)',
      );
    }
    // This process only supervises (and holds the shared port): each worker is a `horde facilitator --workers 1`.
    const { WorkerSupervisor } = await import('./worker-supervisor.js');
    const supervisor = new WorkerSupervisor({
      role: 'facilitator',
      sharePort: true,
      args: [
        ...(options.config ? ['--config', options.config] : []),
        ...(options.port === undefined ? [] : ['--port', String(options.port)]),
      ],
      processes: workersSection.processes,
      say: (line) => process.stderr.write(`${line}\n`),
    });
    supervisor.start();
    process.stderr.write(`facilitator: ${workersSection.processes} workers over PostgreSQL; stopping them on ${await stopped}\n`);
    await supervisor.stop();
    return;
  }
  const facilitator = await startFacilitator(config);
  const outcome = await Promise.race([stopped.then((signal) => ({ signal })), facilitator.failed.then((error) => ({ error }))]);
  if ('error' in outcome) {
    facilitator.logger.error(
      { err: outcome.error.message, code: (outcome.error as { code?: string }).code },
      'facilitator worker stopping',
    );
    process.exitCode = 1;
  } else facilitator.logger.info({ signal: outcome.signal }, 'facilitator stopping');
  await facilitator.close();
  // A worker of `--workers N` has an IPC channel to its supervisor: let it go so the process exits.
  if (process.connected) process.disconnect();
}

/**
 * `horde facilitator --config F`: the organic-job gateway (clients' HTTP API and validators'
 * websocket on one port) until SIGINT/SIGTERM. `--workers N`: N worker processes sharing the port
 * and a PostgreSQL store (the same command on other machines adds theirs).
 */
export function register(program: Command): void {
  program
    .command('facilitator')
    .description('run a facilitator: the HTTP API clients (the SDK) submit organic jobs to, and the websocket validators receive them on')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('-p, --port <port>', 'port to listen on (overrides facilitator.port)', (value) => Number.parseInt(value, 10))
    .option(
      '--workers <n>',
      'run as workers sharing PostgreSQL: start n worker processes here, on one port (the same command on other machines adds theirs)',
    )
    .action(async (options: RunOptions) => runFacilitator(options));
}
