import { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../contracts/index.js';
import type { JobRecord } from './job-driver.js';
import type { PageReadReport } from './receipts/transfer.js';
import type { ValidatorHandle } from './service.js';
import { listen } from '../events/listen.js';

/** Job times from a hash-crack second to a long LLM run. */
const JOB_SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * The validator's metrics, fed from the handle's events (the validator's core stays free of
 * metric calls). Registered on the process registry, served by the dashboard's `/metrics`.
 */
export class ValidatorMetrics {
  readonly jobs: Counter<'executor_class' | 'kind' | 'status' | 'failure_reason'>;
  readonly jobDuration: Histogram<'executor_class' | 'status'>;
  readonly batches: Counter<'status'>;
  readonly batchDuration: Histogram;
  readonly weights: Counter<'status'>;
  readonly reveals: Counter;
  readonly loopFailures: Counter<'stage'>;
  readonly receiptsTransferred: Counter;
  readonly receiptsRefused: Counter<'reason'>;
  readonly receiptFetchFailures: Counter;
  readonly collateralSkipped: Counter;
  readonly collateralUnavailable: Counter<'code'>;
  readonly slashes: Counter<'status'>;

  constructor(registry: Metrics) {
    const registers = [registry];
    this.jobs = new Counter({
      name: 'horde_validator_jobs_total',
      help: 'Jobs that ended, by executor class, kind (synthetic, organic), status and failure reason (empty unless failed).',
      labelNames: ['executor_class', 'kind', 'status', 'failure_reason'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'horde_validator_job_duration_seconds',
      help: 'Time from the job request to the result, per executor class and status.',
      labelNames: ['executor_class', 'status'],
      buckets: JOB_SECONDS_BUCKETS,
      registers,
    });
    this.batches = new Counter({
      name: 'horde_validator_batches_total',
      help: 'Synthetic batches that ran to the end (status finished).',
      labelNames: ['status'],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'horde_validator_batch_duration_seconds',
      help: 'Time of a synthetic batch from the first initial request to the last finished receipt.',
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200],
      registers,
    });
    this.weights = new Counter({
      name: 'horde_validator_weights_set_total',
      help: 'Weight submissions per outcome: set, committed, rate_limited, none (nothing put on chain).',
      labelNames: ['status'],
      registers,
    });
    this.reveals = new Counter({ name: 'horde_validator_weights_revealed_total', help: 'Committed weights revealed on chain.', registers });
    this.loopFailures = new Counter({
      name: 'horde_validator_loop_failures_total',
      help: 'Failures of the background loop (batch, scoring, weights, reveal); the validator keeps running.',
      labelNames: ['stage'],
      registers,
    });
    this.receiptsTransferred = new Counter({
      name: 'horde_validator_receipts_transferred_total',
      help: "Receipts pulled from miners' receipt pages, both signatures verified, and stored (each once).",
      registers,
    });
    this.receiptsRefused = new Counter({
      name: 'horde_validator_receipts_refused_total',
      help: 'Receipt lines refused during transfer, by reason (malformed, bad signature, foreign hotkey, ...).',
      labelNames: ['reason'],
      registers,
    });
    this.receiptFetchFailures = new Counter({
      name: 'horde_validator_receipt_fetch_failures_total',
      help: 'Receipt page fetches that did not read to the end (timeout, HTTP error, oversized or endless page).',
      registers,
    });
    this.collateralSkipped = new Counter({
      name: 'horde_validator_collateral_skipped_miners_total',
      help: 'Miners left out of organic routing for having less than validator.collateral.minimumWei (one per miner per job).',
      registers,
    });
    this.collateralUnavailable = new Counter({
      name: 'horde_validator_collateral_unavailable_total',
      help: 'Organic jobs routed without the collateral filter because no collateral could be read yet, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.slashes = new Counter({
      name: 'horde_validator_collateral_slashes_total',
      help: 'Collateral slashes of cheating miners: slashed, or failed (after every attempt).',
      labelNames: ['status'],
      registers,
    });
  }

  recordReceiptPage(report: PageReadReport): void {
    this.receiptsTransferred.inc(report.stored);
    for (const [reason, count] of Object.entries(report.refused)) this.receiptsRefused.inc({ reason }, count ?? 0);
    if (report.fetchFailed) this.receiptFetchFailures.inc();
  }

  recordJob(record: JobRecord): void {
    this.jobs.inc({
      executor_class: record.executorClass,
      kind: record.kind,
      status: record.status,
      failure_reason: record.failure?.reason ?? '',
    });
    if (record.timeTookMs !== null)
      this.jobDuration.observe({ executor_class: record.executorClass, status: record.status }, record.timeTookMs / 1000);
  }

  /** Counts what `handle` reports from now on; returns a function that stops listening. */
  observe(handle: ValidatorHandle): () => void {
    const stopValidator = listen(handle, {
      'job-finished': (record) => this.recordJob(record),
      'batch-finished': (batch) => {
        this.batches.inc({ status: 'finished' });
        this.batchDuration.observe(batch.durationMs / 1000);
      },
      'weights-set': ({ result }) => this.weights.inc({ status: result?.status ?? 'none' }),
      'weights-revealed': () => this.reveals.inc(),
      failure: ({ stage }) => this.loopFailures.inc({ stage }),
      'receipts-transferred': (report) => this.recordReceiptPage(report),
    });
    const organic = handle.organic;
    const stopOrganic = organic
      ? listen(organic, {
          'collateral-skipped': ({ skipped }) => this.collateralSkipped.inc(skipped.length),
          'collateral-unavailable': ({ code }) => this.collateralUnavailable.inc({ code }),
          slashed: () => this.slashes.inc({ status: 'slashed' }),
          'slash-failed': () => this.slashes.inc({ status: 'failed' }),
        })
      : () => {};
    return () => {
      stopOrganic();
      stopValidator();
    };
  }
}
