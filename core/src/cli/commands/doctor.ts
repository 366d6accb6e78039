import type { Command } from 'commander';

interface DoctorFlags {
  config?: string;
  json?: boolean;
}

/** `horde doctor`: a miner's setup checked the way an operator would, one line per check with its fix. */
export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      "check a miner's setup: config and plugins, hotkeys, executors, dockerd and the NVIDIA runtime, disk space, that the announced address answers, registration, clock skew",
    )
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--json', 'print the results as JSON')
    .action(async (flags: DoctorFlags) => {
      const [{ runDoctor, formatDoctor }, { createLogger }] = await Promise.all([
        import('../../doctor/run-doctor.js'),
        import('../../logging/index.js'),
      ]);
      // stdout is the answer; the chain client's and plugins' own logs go to stderr, warnings only.
      const logger = createLogger({ level: 'warn', destination: 'stderr', pretty: false });
      const results = await runDoctor({ ...(flags.config ? { configPath: flags.config } : {}), logger });
      process.stdout.write(flags.json ? `${JSON.stringify(results, null, 2)}\n` : `${formatDoctor(results)}\n`);
      const failed = results.filter((r) => r.status === 'fail').length;
      if (!flags.json) process.stdout.write(failed === 0 ? 'All checks passed.\n' : `${failed} check${failed === 1 ? '' : 's'} failed.\n`);
      if (failed > 0) process.exitCode = 1;
    });
}
