import {
  datetimeToEpochMicros,
  type CycleFacts,
  type JobOutcome,
  type JobStartedReceiptPayload,
  type Receipt,
  type ScoreTable,
  type ScoringRule,
} from '@horde/core';

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
export function stakeShare(facts: CycleFacts, validatorHotkey: string = facts.validatorHotkey): number {
  let total = 0;
  let own = 0;
  for (const neuron of facts.neurons) {
    if (!neuron.validatorPermit && neuron.hotkey !== facts.validatorHotkey) continue;
    total += neuron.stake;
    if (neuron.hotkey === validatorHotkey) own = neuron.stake;
  }
  return total > 0 ? own / total : 0;
}

/** One organic job's claimed spending of a validator's allowance on a miner. */
export interface Spending {
  readonly jobUuid: string;
  readonly validatorHotkey: string;
  readonly minerHotkey: string;
  readonly executorClass: string;
  /** Executor-seconds the job cost. */
  readonly cost: number;
  /** The blocks it says it was paid with; absent: the oldest unspent ones. */
  readonly blocks?: readonly number[];
}

function validatorSigned(receipt: Receipt, facts: CycleFacts): boolean {
  try {
    return facts.verifyValidatorSignature(receipt);
  } catch {
    return false;
  }
}

/**
 * Other validators' organic jobs on the miners, from the receipts transferred from the miners'
 * pages (`facts.organicStartedReceipts` and `facts.finishedReceipts`, both signatures checked on
 * arrival; the validator signature is checked again here): a job's finished receipt, dated in this
 * cycle's scoring window (so each is paid in one cycle only), names its cost (`score_str`,
 * executor-seconds) and blocks (`block_numbers`); its started receipt names the class and says it
 * is organic. This validator's own jobs come from `facts.jobs`, not from here.
 */
export function transferredSpendings(facts: CycleFacts): Spending[] {
  // Signatures are checked last, only for receipts that would be paid (a check costs ~0.7 ms).
  const started = new Map<string, Receipt<JobStartedReceiptPayload>>();
  for (const receipt of facts.organicStartedReceipts) {
    const payload = receipt.payload;
    if (payload.is_organic && payload.validator_hotkey !== facts.validatorHotkey && !started.has(payload.job_uuid))
      started.set(payload.job_uuid, receipt);
  }
  const spendings: Spending[] = [];
  const paid = new Set<string>();
  for (const receipt of facts.finishedReceipts) {
    const payload = receipt.payload;
    const start = started.get(payload.job_uuid);
    if (!start || paid.has(payload.job_uuid)) continue;
    if (payload.validator_hotkey !== start.payload.validator_hotkey || payload.miner_hotkey !== start.payload.miner_hotkey) continue;
    const micros = datetimeToEpochMicros(payload.timestamp);
    const at = micros === null ? Number.NaN : Number(micros) / 1000;
    if (!(at >= facts.window.fromMs && at < facts.window.toMs)) continue;
    const cost = Number(payload.score_str);
    if (!Number.isFinite(cost) || cost <= 0) continue; // a failed job's receipt: score 0, nothing spent
    if (!validatorSigned(receipt, facts) || !validatorSigned(start, facts)) continue;
    paid.add(payload.job_uuid);
    spendings.push({
      jobUuid: payload.job_uuid,
      validatorHotkey: payload.validator_hotkey,
      minerHotkey: payload.miner_hotkey,
      executorClass: start.payload.executor_class,
      cost,
      ...(payload.block_numbers.length > 0 ? { blocks: payload.block_numbers } : {}),
    });
  }
  return spendings;
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
 * ComputeHorde's allowance scoring, for every validator's organic jobs in the cycle: this
 * validator's own (`facts.jobs`) and the others' from transferred receipts
 * (`transferredSpendings`). Every block of the cycle mints, per (miner, validator, class),
 * `executors declared × that validator's stake share × blockSeconds × multiplier`
 * executor-seconds. Each completed organic job costs its executor-seconds and is paid from its
 * own validator's blocks on that miner and class: the blocks its finished receipt names, or else
 * the oldest unspent ones. A paid job earns 1 point per executor-second; a job the allowance
 * cannot cover earns nothing (ComputeHorde drops it as an invalid spending), so a validator
 * cannot pay a miner beyond its stake, and receipts of a validator without a permit pay nothing.
 */
export function scoreAllowancePaidJobs(facts: CycleFacts, table: ScoreTable, options: Required<AllowanceOptions>): ScoreTable {
  const scored: Record<string, Record<string, number>> = {};
  for (const [hotkey, byClass] of Object.entries(table)) scored[hotkey] = { ...byClass };
  const ledgers = new Map<string, AllowanceLedger>();
  const own: Spending[] = facts.jobs.filter(paidJob).map((job) => ({
    jobUuid: job.jobUuid,
    validatorHotkey: facts.validatorHotkey,
    minerHotkey: job.minerHotkey,
    executorClass: job.executorClass,
    cost: job.executorSeconds,
    ...(job.paidWithBlocks !== undefined ? { blocks: job.paidWithBlocks } : {}),
  }));
  const ownJobs = new Set(own.map((spending) => spending.jobUuid));

  for (const spending of [...own, ...transferredSpendings(facts).filter((s) => !ownJobs.has(s.jobUuid))]) {
    const key = `${spending.minerHotkey}\u0000${spending.validatorHotkey}\u0000${spending.executorClass}`;
    let ledger = ledgers.get(key);
    if (ledger === undefined) {
      const executors = facts.manifests[spending.minerHotkey]?.[spending.executorClass] ?? 0;
      const perExecutorBlock = stakeShare(facts, spending.validatorHotkey) * options.blockSeconds * options.multiplier;
      ledger = new AllowanceLedger(facts.cycle.startBlock, facts.cycle.endBlock, executors * perExecutorBlock);
      ledgers.set(key, ledger);
    }
    const paid = spending.blocks !== undefined ? ledger.payWith(spending.blocks, spending.cost) : ledger.payOldestFirst(spending.cost);
    const row = (scored[spending.minerHotkey] ??= {});
    row[spending.executorClass] = (row[spending.executorClass] ?? 0) + (paid ? spending.cost : 0);
  }
  return scored;
}

/** Rule `allowance-paid-jobs`: 1 point per executor-second of organic work paid from allowance. */
export function allowancePaidJobsRule(options: AllowanceOptions = {}): ScoringRule {
  const resolved = { blockSeconds: options.blockSeconds ?? 12, multiplier: options.multiplier ?? 1 };
  return { name: ALLOWANCE_PAID_JOBS, apply: (facts, table) => scoreAllowancePaidJobs(facts, table, resolved) };
}
