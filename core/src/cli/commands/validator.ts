import type { Command } from 'commander';
import type { ValidatorStore } from '../../validator/store.js';
import { formatTable, stopRequested } from './shared.js';
import { definedFields } from '../../object/defined-fields.js';

interface RunOptions {
  config?: string;
  workers?: string;
}

interface ScoresOptions {
  config?: string;
  cycle?: string;
  json?: boolean;
}

interface JobsOptions {
  config?: string;
  /** A job's uuid or its first characters: show that job with its status history. */
  job?: string;
  cycle?: string;
  limit?: string;
  failed?: boolean;
  json?: boolean;
}

/** `5GrwvaEF…NoHGKutQY`: enough of an ss58 to recognise it in a table. */
function shortKey(key: string): string {
  return key.length > 20 ? `${key.slice(0, 8)}…${key.slice(-8)}` : key;
}

function formatPoints(value: number): string {
  if (value === 0) return '0';
  return Math.abs(value) >= 100 ? value.toFixed(1) : Number(value.toPrecision(4)).toString();
}

async function runValidator(options: RunOptions): Promise<void> {
  // Started by a parent with an IPC channel (the devnet): stop when it goes away, so a validator
  // never outlives its devnet.
  const send = process.send?.bind(process);
  const stopped = stopRequested({ onDisconnect: send !== undefined });
  const [{ loadConfig }, { startValidator }] = await Promise.all([
    import('../../config/index.js'),
    import('../../validator/from-config.js'),
  ]);
  const loaded = await loadConfig(options.config ? { configPath: options.config } : {});
  const workers = flagNumber('--workers', options.workers, 1);
  if (!workers.ok) {
    process.stderr.write(`${workers.message}\n`);
    process.exitCode = 1;
    return;
  }
  const workersSection =
    workers.value !== undefined ? { ...loaded.validator.workers, enabled: true, processes: workers.value } : loaded.validator.workers;
  const config = { ...loaded, role: 'validator' as const, validator: { ...loaded.validator, workers: workersSection } };
  if (workersSection.enabled && workersSection.processes > 1) {
    // This process only supervises: each worker is a `horde validator --workers 1` of the same config.
    const { WorkerSupervisor } = await import('./worker-supervisor.js');
    const supervisor = new WorkerSupervisor({
      role: 'validator',
      args: options.config ? ['--config', options.config] : [],
      processes: workersSection.processes,
      say: (line) => process.stderr.write(`${line}\n`),
      ...(send ? { onMessage: (message: unknown) => send(message as never, undefined, undefined, () => undefined) } : {}),
    });
    supervisor.start();
    process.stderr.write(`validator: ${workersSection.processes} workers over PostgreSQL; stopping them on ${await stopped}\n`);
    await supervisor.stop();
    if (process.connected) process.disconnect();
    return;
  }
  const validator = await startValidator(config);
  // Tell the devnet what happens.
  const { forwardValidatorEvents } = await import('../../devnet/validator-events.js');
  const stopForwarding = send
    ? forwardValidatorEvents(validator.handle, (message) => send(message, undefined, undefined, () => undefined))
    : () => undefined;
  validator.logger.info({ signal: await stopped }, 'validator stopping');
  stopForwarding();
  await validator.close();
  // Let the IPC channel go so the process can exit.
  if (process.connected) process.disconnect();
}

async function printScores(options: ScoresOptions): Promise<void> {
  const [{ loadConfig }, { storeOptions }, { openStore }, { loadHotkey }, { ValidatorStore, pointsByRule }] = await Promise.all([
    import('../../config/index.js'),
    import('../../config/store-options.js'),
    import('../../store/index.js'),
    import('../../keys/index.js'),
    import('../../validator/store.js'),
  ]);
  const config = await loadConfig(options.config ? { configPath: options.config } : {});
  const hotkey = await loadHotkey(config.hotkey);
  const store = await openStore(storeOptions(config));
  try {
    const validatorStore = new ValidatorStore(store, hotkey.ss58);
    const cycle = options.cycle !== undefined ? Number(options.cycle) : await validatorStore.latestScoredCycle();
    if (cycle === null || !Number.isInteger(cycle)) {
      process.stdout.write(
        options.cycle !== undefined ? `--cycle must be a whole number, got ${options.cycle}\n` : 'No cycle has been scored yet.\n',
      );
      if (options.cycle !== undefined) process.exitCode = 1;
      return;
    }
    const [steps, scores, weights, batch, jobs] = await Promise.all([
      validatorStore.scoreSteps(cycle),
      validatorStore.scores(cycle),
      validatorStore.weights(cycle),
      validatorStore.batch(cycle),
      validatorStore.jobDetails(cycle),
    ]);
    const wrongJobs = jobs.filter((job) => job.correct === false);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ validator: hotkey.ss58, cycle, batch, steps, scores, weights, wrongJobs }, null, 2)}\n`);
      return;
    }
    if (scores.length === 0) {
      process.stdout.write(`Cycle ${cycle} has not been scored by ${hotkey.ss58}.\n${formatWrongJobs(wrongJobs)}`);
      return;
    }
    // Totals per hotkey after each rule (summed over executor classes).
    const { rules, totals } = pointsByRule(steps);
    const header = ['UID', 'HOTKEY', ...rules.map((rule) => rule.toUpperCase()), 'WEIGHT'];
    const rows = scores.map((score) => {
      const row = totals.get(score.hotkey) ?? [];
      const cells = rules.map((_rule, i) => {
        const after = row[i] ?? 0;
        const change = after - (i === 0 ? 0 : (row[i - 1] ?? 0));
        return i === 0 || Math.abs(change) < 1e-12
          ? formatPoints(after)
          : `${formatPoints(after)} (${change > 0 ? '+' : ''}${formatPoints(change)})`;
      });
      return [score.uid === null ? '-' : String(score.uid), shortKey(score.hotkey), ...cells, score.weight.toFixed(4)];
    });
    const lines = [
      `Cycle ${cycle}, validator ${hotkey.ss58}${batch ? `: batch at block ${batch.block}, ${batch.jobs} jobs on ${batch.miners} miners` : ''}`,
      "Each rule column is the hotkey's points after that rule (summed over classes), with what the rule changed.",
      formatTable([header, ...rows]),
    ];
    const landed = weights.filter((w) => w.status === 'set' || w.status === 'committed').at(-1);
    const last = weights.at(-1);
    if (landed) {
      lines.push(
        `Weights: ${landed.status} at block ${landed.block}${landed.revealBlock !== null ? ` (reveal due at block ${landed.revealBlock})` : ''}, attempt ${landed.attempts}.`,
      );
      if (landed.mode) {
        const by = landed.mode === 'timelocked_v4' ? `, revealed by the chain at drand round ${landed.revealRound ?? '?'}` : '';
        lines.push(`Mode: ${landed.mode}${by}.`);
      }
    } else if (last) {
      lines.push(`Weights: not on chain (${last.status}${last.error ? `: ${last.error}` : ''}) after ${last.attempts} attempts.`);
    } else {
      lines.push('Weights: none submitted for this cycle.');
    }
    process.stdout.write(`${lines.join('\n')}\n${formatWrongJobs(wrongJobs)}`);
  } finally {
    await store.close();
  }
}

/** Most wrong jobs listed in the table view; `--json` has them all. */
const WRONG_JOBS_SHOWN = 20;

/**
 * Jobs that earned nothing because the validator judged them wrong, with why: a wrong answer, a
 * spec mismatch (the executor's machine is not its class), a GPU served by two coldkeys.
 */
function formatWrongJobs(jobs: ReadonlyArray<{ minerHotkey: string; executorClass: string; details: string }>): string {
  if (jobs.length === 0) return '';
  const rows = jobs.slice(0, WRONG_JOBS_SHOWN).map((job) => [shortKey(job.minerHotkey), job.executorClass, job.details]);
  const more = jobs.length > WRONG_JOBS_SHOWN ? `\n… and ${jobs.length - WRONG_JOBS_SHOWN} more (--json lists all).` : '';
  return `Jobs counted as wrong (${jobs.length}):\n${formatTable([['HOTKEY', 'CLASS', 'WHY'], ...rows])}${more}\n`;
}

/** A whole number from a flag, or a message saying what was wrong with it. */
function flagNumber(
  flag: string,
  value: string | undefined,
  min: number,
): { ok: true; value: number | undefined } | { ok: false; message: string } {
  if (value === undefined) return { ok: true, value: undefined };
  const n = Number(value);
  return Number.isInteger(n) && n >= min
    ? { ok: true, value: n }
    : { ok: false, message: `${flag} must be a whole number of at least ${min}, got ${value}` };
}

async function printJobs(options: JobsOptions): Promise<void> {
  const cycle = flagNumber('--cycle', options.cycle, 0);
  const limit = flagNumber('--limit', options.limit, 1);
  for (const parsed of [cycle, limit]) {
    if (!parsed.ok) {
      process.stderr.write(`${parsed.message}\n`);
      process.exitCode = 1;
      return;
    }
  }
  const [{ loadConfig }, { storeOptions }, { openStore }, { loadHotkey }, { ValidatorStore }] = await Promise.all([
    import('../../config/index.js'),
    import('../../config/store-options.js'),
    import('../../store/index.js'),
    import('../../keys/index.js'),
    import('../../validator/store.js'),
  ]);
  const config = await loadConfig(options.config ? { configPath: options.config } : {});
  const hotkey = await loadHotkey(config.hotkey);
  const store = await openStore(storeOptions(config));
  try {
    const validatorStore = new ValidatorStore(store, hotkey.ss58);
    if (options.job !== undefined) return await printJob(validatorStore, hotkey.ss58, options.job, options.json === true);
    const jobs = await validatorStore.jobs({
      limit: (limit.ok && limit.value) || 50,
      ...(cycle.ok && cycle.value !== undefined ? { cycle: cycle.value } : {}),
      failedOnly: options.failed === true,
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ validator: hotkey.ss58, jobs }, null, 2)}\n`);
      return;
    }
    if (jobs.length === 0) {
      process.stdout.write(
        `${options.failed ? 'No failed jobs' : 'No jobs'} stored for validator ${hotkey.ss58}${cycle.ok && cycle.value !== undefined ? ` in cycle ${cycle.value}` : ''}.\n`,
      );
      return;
    }
    const header = [
      'CYCLE',
      'JOB',
      'MINER',
      'CLASS',
      'KIND',
      'STATUS',
      ...(options.failed ? ['BY', 'REASON', 'STAGE', 'MESSAGE'] : ['DETAILS']),
    ];
    const rows = jobs.map((job) => {
      const common = [String(job.cycle), job.jobUuid.slice(0, 8), shortKey(job.minerHotkey), job.executorClass, job.kind, job.status];
      if (!options.failed) return [...common, job.details.replace(/\s+/g, ' ').slice(0, 80)];
      const failure = job.failure!;
      return [...common, failure.source, failure.reason, failure.stage ?? '-', failure.message.replace(/\s+/g, ' ').slice(0, 80)];
    });
    process.stdout.write(`${formatTable([header, ...rows])}\n`);
  } finally {
    await store.close();
  }
}

/** `horde validator jobs <uuid>`: one job, why it ended as it did, and each status it went through with its time. */
async function printJob(store: ValidatorStore, validatorHotkey: string, uuid: string, json: boolean): Promise<void> {
  const { JobNotFoundError } = await import('../../validator/errors.js');
  const job = await store.job(uuid);
  if (!job) throw new JobNotFoundError(`no job ${uuid} is stored for validator ${validatorHotkey}: \`horde validator jobs\` lists them`);
  if (json) {
    process.stdout.write(`${JSON.stringify({ validator: validatorHotkey, job }, null, 2)}\n`);
    return;
  }
  const lines = [
    `Job ${job.jobUuid} (${job.kind}, cycle ${job.cycle})`,
    `  miner   ${job.minerHotkey}`,
    `  class   ${job.executorClass}`,
    `  status  ${job.status}${job.status === 'completed' ? (job.correct === true ? ', correct' : job.correct === false ? ', wrong' : '') : ''}`,
    ...(job.failure
      ? [
          `  failed  ${job.failure.reason}${job.failure.stage ? ` in ${job.failure.stage}` : ''}, reported by the ${job.failure.source}: ${job.failure.message.replace(/\s+/g, ' ').slice(0, 200)}`,
        ]
      : []),
    `  details ${job.details.replace(/\s+/g, ' ').slice(0, 200)}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (job.history.length === 0) {
    process.stdout.write('No status history (stored before histories were kept).\n');
    return;
  }
  const first = job.history[0]!.at;
  const rows = job.history.map((t, i) => [
    new Date(t.at).toISOString().replace('T', ' ').replace('Z', ' UTC'),
    `+${((t.at - first) / 1000).toFixed(3)} s`,
    i === 0 ? '-' : `${((t.at - job.history[i - 1]!.at) / 1000).toFixed(3)} s`,
    t.status,
    t.detail ?? '',
  ]);
  process.stdout.write(`${formatTable([['AT', 'SINCE SENT', 'STEP', 'STATUS', 'DETAIL'], ...rows])}\n`);
}

/** `horde validator` (run), `horde validator scores` (what each rule gave each miner) and `horde validator jobs` (what happened to each job). */
export function register(program: Command): void {
  const validator = program
    .command('validator')
    .description('run a validator: synthetic batches against miners, scoring and weights')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option(
      '--workers <n>',
      'run as workers sharing PostgreSQL: start n worker processes here (the same command on other machines adds theirs)',
    )
    .action((options: RunOptions) => runValidator(options));
  validator
    .command('scores')
    .description('print the per-miner score breakdown of a cycle: which rule contributed what, and the weight set')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--cycle <n>', 'cycle number (default: the last scored one)')
    .option('--json', 'print JSON instead of a table')
    .action((options: ScoresOptions, command: Command) => printScores({ ...command.parent?.opts(), ...options }));
  validator
    .command('jobs [job]')
    .description(
      'list the stored jobs, newest first; with --failed, only failed ones with who reported the failure, its reason and stage; with a job uuid (or its first characters), that job with its status history',
    )
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--failed', 'only failed and horde-failed jobs, with why they failed')
    .option('--cycle <n>', 'only this cycle')
    .option('--limit <n>', 'at most this many jobs (default 50)')
    .option('--json', 'print JSON instead of a table')
    .action((job: string | undefined, options: JobsOptions, command: Command) =>
      printJobs({ ...command.parent?.opts(), ...options, ...definedFields({ job }) }),
    );
}
