import type { Behaviour } from './keys.js';

/** Per miner process: what its jobs did so far (all cycles). */
export interface MinerTally {
  readonly name: string;
  readonly behaviour: Behaviour;
  /** Completed with a correct answer. */
  ok: number;
  /** Completed with a wrong answer (a cheater's). */
  wrong: number;
  /** Failed, timed out, declined or broke in horde. */
  failed: number;
}

export interface ProgressStatus {
  readonly block: number;
  readonly cycle: number;
  /** Cycles scored so far, of `cyclesTotal`. */
  readonly cyclesDone: number;
  readonly cyclesTotal: number;
  readonly phase: string;
}

/**
 * What the devnet shows while it runs: a live view on a terminal, or one plain line per event when
 * stdout is a pipe or a file (CI logs, `--no-progress`).
 */
export interface ProgressView {
  status(status: ProgressStatus): void;
  batchStarted(cycle: number, miners: number, jobs: number): void;
  jobFinished(miner: MinerTally, outcome: string): void;
  /** A phase message: processes started, cycle scored, weights committed or revealed. */
  message(text: string): void;
  stop(): void;
}

export interface ViewOptions {
  readonly miners: readonly MinerTally[];
  readonly write?: (text: string) => void;
}

function counts(m: MinerTally): string {
  return `ok ${String(m.ok).padStart(3)}  wrong ${String(m.wrong).padStart(3)}  failed ${String(m.failed).padStart(3)}`;
}

function tallyLine(m: MinerTally): string {
  return `${m.name.padEnd(9)} ${m.behaviour.padEnd(7)}  ${counts(m)}`;
}

/** One line per event, prefixed with the block and cycle: for logs and pipes. */
export function plainView(options: ViewOptions): ProgressView {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  let where = '';
  let lastStatusLine = '';
  return {
    status(status) {
      where = `block ${status.block} cycle ${status.cycle}`;
      // Only phase changes are worth a line; blocks tick ten times a second.
      const line = `${status.phase} (${status.cyclesDone}/${status.cyclesTotal} cycles scored)`;
      if (line !== lastStatusLine) {
        lastStatusLine = line;
        write(`[devnet] ${where}: ${line}\n`);
      }
    },
    batchStarted(cycle, miners, jobs) {
      write(`[devnet] ${where}: batch of cycle ${cycle} started: ${jobs} jobs on ${miners} miners\n`);
    },
    jobFinished(miner, outcome) {
      write(`[devnet] ${where}: ${miner.name} (${miner.behaviour}) job ${outcome}; ${counts(miner)}\n`);
    },
    message(text) {
      write(`[devnet] ${where ? `${where}: ` : ''}${text}\n`);
    },
    stop() {},
  };
}

const BAR_WIDTH = 30;

function bar(value: number, total: number): string {
  const filled = total > 0 ? Math.round((Math.min(value, total) / total) * BAR_WIDTH) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

/**
 * The live view (cli-progress): a status line (block, cycle, phase), the batch's progress bar (jobs
 * finished of jobs sent) and one line per miner with its job counts; messages scroll above them.
 */
export async function liveView(options: ViewOptions & { readonly notTerminal?: boolean }): Promise<ProgressView> {
  const { default: cliProgress } = await import('cli-progress');
  const multibar = new cliProgress.MultiBar({
    stream: process.stdout,
    // Asked for (--progress) without a terminal: redraw as plain lines every few seconds.
    noTTYOutput: options.notTerminal ?? false,
    notTTYSchedule: 5_000,
    clearOnComplete: false,
    hideCursor: true,
    gracefulExit: false,
    linewrap: false,
    autopadding: false,
    // Messages written above the bars scroll them: every bar is redrawn each time, changed or not.
    forceRedraw: true,
    fps: 10,
    format: (_options, _params, payload: { line?: string }) => payload.line ?? '',
  });
  let status = 'starting';
  const statusBar = multibar.create(1, 0, { line: status });
  let batch = { cycle: -1, jobs: 0, finished: 0 };
  const batchLine = () =>
    batch.cycle < 0
      ? 'batch: waiting for the first batch'
      : `batch of cycle ${batch.cycle} ${bar(batch.finished, batch.jobs)} ${batch.finished}/${batch.jobs} jobs`;
  const batchBar = multibar.create(1, 0, { line: batchLine() });
  const minerBars = new Map(options.miners.map((m) => [m.name, multibar.create(1, 0, { line: tallyLine(m) })]));
  return {
    status(s) {
      status = `block ${s.block}  cycle ${s.cycle}  ${s.cyclesDone}/${s.cyclesTotal} cycles scored  ${s.phase}`;
      statusBar.update(0, { line: status });
    },
    batchStarted(cycle, _miners, jobs) {
      batch = { cycle, jobs, finished: 0 };
      batchBar.update(0, { line: batchLine() });
    },
    jobFinished(miner) {
      batch.finished += 1;
      batchBar.update(0, { line: batchLine() });
      minerBars.get(miner.name)?.update(0, { line: tallyLine(miner) });
    },
    message(text) {
      multibar.log(`${text}\n`);
    },
    stop() {
      multibar.update();
      multibar.stop();
    },
  };
}
