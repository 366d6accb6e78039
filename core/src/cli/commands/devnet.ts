import type { Command } from 'commander';
// Light: constants and a zod schema, no runtime. The run itself is imported in the action.
import { DEVNET_DEFAULTS, MIN_CYCLE_MS } from '../../devnet/options.js';

interface DevnetFlags {
  miners?: string;
  executors?: string;
  cycles?: string;
  cheaters?: string;
  dancers?: string;
  farmers?: string;
  blockTimeMs?: string;
  cycleBlocks?: string;
  dataDir?: string;
  postgres?: string;
  docker?: boolean;
  json?: string;
  progress?: boolean;
  plugin?: string[];
  minerPlugin?: string[];
  validatorPlugin?: string[];
  ports?: string;
  commitReveal?: string;
  dashboard?: boolean;
  dashboardPort?: string;
  validatorWorkers?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const HELP_AFTER = `
What it does:
  Creates a LocalChain (subnet 12) with short blocks and cycles, registers the validator (stake and
  validator permit) and every miner hotkey, starts the trusted miner, the miners (each with its
  executors: \`horde executor\` processes started by the local executor manager, running the
  hash-crack job with the process runner, or in containers with --docker) and the validator, all on
  127.0.0.1 with free ports. The validator runs one synthetic batch per cycle, scores each cycle,
  commits its weights and reveals them. After --cycles cycles and the last reveal, everything stops
  and a table per miner hotkey is printed: jobs, points by scoring rule, weight, weight on chain.

  Accounts are dev URIs: //horde-devnet/validator, //horde-devnet/miner-N (coldkey
  //horde-devnet/coldkey-N; a dancer's second hotkey //horde-devnet/miner-N-2). Miners are honest
  first, then cheaters (their executors print made-up answers), then dancers (two hotkeys under one
  coldkey, rotate-main: the dancing bonus shows from the second cycle on).

Files (kept after the run):
  <data dir>/config/<process>.json   the config each process ran with (horde miner|validator --config)
  <data dir>/logs/<process>.log      its log: pino JSON lines (executor agents log into their miner's)
  <data dir>/<process>/horde.sqlite  its store;  <data dir>/chain.sqlite  the LocalChain
  Look inside: horde validator scores --config <data dir>/config/validator.json
               horde chain show --config <data dir>/config/validator.json

Try your plugin (a built package directory, its dist/index.js, or a package name):
  horde devnet --plugin ./my-plugin.js            added to the validator's and every miner's plugins
  horde devnet --miner-plugin ./my-manager        every miner runs it; an executor manager replaces the local one
  horde devnet --validator-plugin ./my-rule       the validator runs it (scoring rules, job generators)

Ctrl-C stops every process (exit code 130).`;

/** `horde devnet`: a whole subnet on this machine, for a few cycles. */
export function register(program: Command): void {
  program
    .command('devnet')
    .description(
      'run a whole subnet locally: a LocalChain, a validator with its trusted miner, and miners with executors, for a few cycles',
    )
    .option('--miners <n>', `miners to start (default: ${DEVNET_DEFAULTS.miners})`)
    .option('--executors <n>', `executors per miner, test-class machines (default: ${DEVNET_DEFAULTS.executors})`)
    .option('--cycles <n>', `cycles to run: one batch, scoring and weights each (default: ${DEVNET_DEFAULTS.cycles})`)
    .option('--cheaters <n>', `how many of the miners return wrong answers (default: ${DEVNET_DEFAULTS.cheaters})`)
    .option('--dancers <n>', `how many of the miners dance across two hotkeys of one coldkey (default: ${DEVNET_DEFAULTS.dancers})`)
    .option(
      '--farmers <n>',
      `how many of the miners claim to dance with one hotkey, moving nothing; they must earn no bonus (default: ${DEVNET_DEFAULTS.farmers})`,
    )
    .option('--block-time-ms <ms>', `milliseconds per LocalChain block (default: ${DEVNET_DEFAULTS.blockTimeMs})`)
    .option(
      '--cycle-blocks <n>',
      `blocks per validator cycle; an epoch is half of it, and a cycle must last at least ${MIN_CYCLE_MS / 1000} s (default: ${DEVNET_DEFAULTS.cycleBlocks})`,
    )
    .option('--data-dir <dir>', 'where configs, logs and stores go; must be new or empty (default: a new temp dir, kept)')
    .option(
      '--postgres <url>',
      'keep every store in PostgreSQL: one new database per process and one for the chain, named <db>_validator, <db>_miner_1, <db>_chain, …',
    )
    .option(
      '--docker',
      'run jobs in containers with the docker runner (needs an engine at DOCKER_HOST or the default socket; builds horde/job-hash-crack:1 if missing, or imports it from this Node without a registry); cheaters still use the process runner',
    )
    .option('--json <file>', 'write the final summary as JSON to this file')
    .option('--progress', 'show the live view (default when stdout is a terminal)')
    .option('--no-progress', 'print one plain line per event instead of the live view')
    .option('--plugin <name-or-path>', 'add a plugin to the validator and every miner (repeatable)', collect)
    .option(
      '--miner-plugin <name-or-path>',
      'add a plugin to every miner (repeatable); one that provides an ExecutorManager replaces the local executor manager',
      collect,
    )
    .option('--validator-plugin <name-or-path>', 'add a plugin to the validator only: scoring rules, job generators (repeatable)', collect)
    .option('--ports <from>-<to>', 'listen only on ports in this range, e.g. 9000-9099 (default: any free ports)')
    .option(
      '--commit-reveal <mode>',
      'hash: the validator commits hashes and reveals them (default); timelock: it commits drand-timelocked weights (v4) that the LocalChain reveals with its own beacon',
    )
    .option(
      '--dashboard',
      'serve a live dashboard of the whole devnet on 127.0.0.1 (its URL is printed), and one per process with /metrics',
    )
    .option('--dashboard-port <port>', 'port of the devnet dashboard (default: a free one; implies --dashboard)')
    .option(
      '--validator-workers <n>',
      `run the validator as n worker processes sharing its PostgreSQL database (horde validator --workers n; needs --postgres; default: ${DEVNET_DEFAULTS.validatorWorkers})`,
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: DevnetFlags) => {
      const [{ parseDevnetOptions }, { runDevnet }, { DevnetInterruptedError }] = await Promise.all([
        import('../../devnet/options.js'),
        import('../../devnet/run-devnet.js'),
        import('../../devnet/errors.js'),
      ]);
      // Every flag is checked before anything starts.
      const options = parseDevnetOptions({
        miners: flags.miners,
        executors: flags.executors,
        cycles: flags.cycles,
        cheaters: flags.cheaters,
        dancers: flags.dancers,
        farmers: flags.farmers,
        blockTimeMs: flags.blockTimeMs,
        cycleBlocks: flags.cycleBlocks,
        dataDir: flags.dataDir,
        postgres: flags.postgres,
        docker: flags.docker,
        json: flags.json,
        progress: flags.progress,
        plugins: flags.plugin,
        minerPlugins: flags.minerPlugin,
        validatorPlugins: flags.validatorPlugin,
        ports: flags.ports,
        commitReveal: flags.commitReveal,
        dashboard: flags.dashboard,
        dashboardPort: flags.dashboardPort,
        validatorWorkers: flags.validatorWorkers,
      });
      const interrupt = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (interrupt.signal.aborted) return;
        process.stderr.write(`\nhorde devnet: ${signal}: stopping every process…\n`);
        interrupt.abort(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Whoever read our output went away (`horde devnet | head`): stop the devnet like on Ctrl-C.
      let stdoutOpen = true;
      const onStdoutError = (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
        stdoutOpen = false;
        onSignal('SIGPIPE');
      };
      process.stdout.on('error', onStdoutError);
      try {
        await runDevnet(options, {
          write: (text) => void (stdoutOpen && process.stdout.write(text)),
          isTTY: Boolean(process.stdout.isTTY),
          signal: interrupt.signal,
        });
      } catch (error) {
        if (error instanceof DevnetInterruptedError) {
          process.stderr.write('horde devnet: stopped; every process has exited.\n');
          // 128 + the signal number, as a shell reports a process killed by it.
          process.exitCode = error.signal === 'SIGPIPE' ? 141 : 130;
          return;
        }
        throw error;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.stdout.off('error', onStdoutError);
      }
    });
}
