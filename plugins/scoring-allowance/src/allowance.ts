import type { CycleFacts, JobOutcome, ScoreTable, ScoringRule } from '@horde/core';

export const ALLOWANCE_PAID_JOBS = 'allowance-paid-jobs';

export interface AllowanceOptions {
  /** Seconds one block stands for (ComputeHorde clamps longer blocks to 12 s). */
  readonly blockSeconds?: number;
  /** `DYNAMIC_BLOCK_ALLOWANCE_MULTIPLIER`: 1.0 in code, 100.0 in ComputeHorde production. */
  readonly multiplier?: number;
}

/**
 * This validator's share of the validators' stake (`validator_stake_share`): the part of every
 * block's executor-seconds it may spend on a miner. Validators are the neurons with a permit.
 */
export function stakeShare(facts: CycleFacts): number {
  let total = 0;
  let own = 0;
  for (const neuron of facts.neurons) {
    if (!neuron.validatorPermit && neuron.hotkey !== facts.validatorHotkey) continue;
    total += neuron.stake;
    if (neuron.hotkey === facts.validatorHotkey) own = neuron.stake;
  }
  return total > 0 ? own / total : 0;
}

/** Blocks of one (miner, validator, class) triplet: allowance per block and which are spent. */
class AllowanceLedger {
  private readonly spent = new Set<number>();

  constructor(
    private readonly firstBlock: number,
    private readonly endBlock: number,
    private readonly perBlock: number,
  ) {}

  private usable(block: number): boolean {
    return Number.isInteger(block) && block >= this.firstBlock && block < this.endBlock && !this.spent.has(block);
  }

  /** Pays with exactly the blocks the job's receipt names: all usable, distinct, and enough. */
  payWith(blocks: readonly number[], cost: number): boolean {
    const distinct = new Set(blocks);
    if (distinct.size !== blocks.length || ![...distinct].every((block) => this.usable(block))) return false;
    if (distinct.size * this.perBlock < cost) return false;
    for (const block of distinct) this.spent.add(block);
    return true;
  }

  /** Books the oldest unspent blocks until they cover `cost`; books nothing if they cannot. */
  payOldestFirst(cost: number): boolean {
    if (this.perBlock <= 0) return false;
    const needed = Math.ceil(cost / this.perBlock - 1e-9);
    const chosen: number[] = [];
    for (let block = this.firstBlock; block < this.endBlock && chosen.length < needed; block++) {
      if (this.usable(block)) chosen.push(block);
    }
    return chosen.length === needed ? this.payWith(chosen, cost) : false;
  }
}

function paidJob(job: JobOutcome): job is JobOutcome & { executorSeconds: number } {
  return job.kind === 'organic' && job.status === 'completed' && job.correct !== false && (job.executorSeconds ?? 0) > 0;
}

/**
 * ComputeHorde's allowance scoring, for this validator's jobs in the cycle. Every block of the
 * cycle mints, per miner and class, `executors declared × stake share × blockSeconds × multiplier`
 * executor-seconds. Each completed organic job costs its executor-seconds and is paid from the
 * miner's blocks of that class: the blocks its finished receipt names, or else the oldest unspent
 * ones. A paid job earns 1 point per executor-second; a job the allowance cannot cover earns
 * nothing (ComputeHorde drops it as an invalid spending).
 */
export function scoreAllowancePaidJobs(facts: CycleFacts, table: ScoreTable, options: Required<AllowanceOptions>): ScoreTable {
  const scored: Record<string, Record<string, number>> = {};
  for (const [hotkey, byClass] of Object.entries(table)) scored[hotkey] = { ...byClass };
  const perExecutorBlock = stakeShare(facts) * options.blockSeconds * options.multiplier;
  const ledgers = new Map<string, AllowanceLedger>();

  for (const job of facts.jobs) {
    if (!paidJob(job)) continue;
    const key = `${job.minerHotkey}\u0000${job.executorClass}`;
    let ledger = ledgers.get(key);
    if (ledger === undefined) {
      const executors = facts.manifests[job.minerHotkey]?.[job.executorClass] ?? 0;
      ledger = new AllowanceLedger(facts.cycle.startBlock, facts.cycle.endBlock, executors * perExecutorBlock);
      ledgers.set(key, ledger);
    }
    const paid = job.paidWithBlocks !== undefined ? ledger.payWith(job.paidWithBlocks, job.executorSeconds) : ledger.payOldestFirst(job.executorSeconds);
    const row = (scored[job.minerHotkey] ??= {});
    row[job.executorClass] = (row[job.executorClass] ?? 0) + (paid ? job.executorSeconds : 0);
  }
  return scored;
}

/** Rule `allowance-paid-jobs`: 1 point per executor-second of organic work paid from allowance. */
export function allowancePaidJobsRule(options: AllowanceOptions = {}): ScoringRule {
  const resolved = { blockSeconds: options.blockSeconds ?? 12, multiplier: options.multiplier ?? 1 };
  return { name: ALLOWANCE_PAID_JOBS, apply: (facts, table) => scoreAllowancePaidJobs(facts, table, resolved) };
}
