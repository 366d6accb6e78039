import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../contracts/index.js';
import type { PoolClassUsage } from './pool/executor-pool.js';

/** The miner's own metrics on the process registry, served at `/metrics`. */
export class MinerMetrics {
  readonly jobsAccepted: Counter<'executor_class'>;
  readonly jobsDeclined: Counter<'executor_class' | 'reason'>;
  readonly jobsFinished: Counter<'executor_class'>;
  readonly jobsFailed: Counter<'executor_class' | 'kind' | 'reason'>;
  readonly receiptsStored: Counter<'receipt_type'>;
  readonly validatorConnections: Gauge;
  readonly validatorAuthRefused: Counter<'reason'>;
  readonly badFrames: Counter<'peer'>;
  readonly executorConnectionsRefused: Counter;

  constructor(registry: Metrics, usage: () => Record<string, PoolClassUsage>, connections: () => number) {
    const registers = [registry];
    this.jobsAccepted = new Counter({
      name: 'horde_miner_jobs_accepted_total',
      help: 'Initial job requests accepted (an executor slot was reserved).',
      labelNames: ['executor_class'],
      registers,
    });
    this.jobsDeclined = new Counter({
      name: 'horde_miner_jobs_declined_total',
      help: 'Initial job requests declined, by reason (busy, validator_blacklisted).',
      labelNames: ['executor_class', 'reason'],
      registers,
    });
    this.jobsFinished = new Counter({
      name: 'horde_miner_jobs_finished_total',
      help: 'Jobs whose executor reported V0JobFinishedRequest.',
      labelNames: ['executor_class'],
      registers,
    });
    this.jobsFailed = new Counter({
      name: 'horde_miner_jobs_failed_total',
      help: 'Jobs that ended in a failure: kind job (the job\'s fault) or horde (the network\'s), by reason.',
      labelNames: ['executor_class', 'kind', 'reason'],
      registers,
    });
    this.receiptsStored = new Counter({
      name: 'horde_miner_receipts_stored_total',
      help: 'Receipts countersigned and stored, by type.',
      labelNames: ['receipt_type'],
      registers,
    });
    this.validatorAuthRefused = new Counter({
      name: 'horde_miner_validator_auth_refused_total',
      help: 'Validator connections refused before or at authentication, by reason (the auth error code in lower case, auth_timeout, too_much_data_before_auth, too_many_messages_before_auth).',
      labelNames: ['reason'],
      registers,
    });
    this.badFrames = new Counter({
      name: 'horde_miner_bad_frames_total',
      help: 'Frames that were not a valid protocol message, by peer (validator, executor); each was answered with GenericError.',
      labelNames: ['peer'],
      registers,
    });
    this.executorConnectionsRefused = new Counter({
      name: 'horde_miner_executor_connections_refused_total',
      help: 'Executor connections refused: the token was unknown, used or expired.',
      registers,
    });
    this.validatorConnections = new Gauge({
      name: 'horde_miner_validator_connections',
      help: 'Open validator websocket connections.',
      registers,
      collect() {
        this.set(connections());
      },
    });
    new Gauge({
      name: 'horde_miner_executors_running',
      help: 'Executors reserved or running, per executor class.',
      labelNames: ['executor_class'],
      registers,
      collect() {
        this.reset();
        for (const [executorClass, { used }] of Object.entries(usage())) this.set({ executor_class: executorClass }, used);
      },
    });
    new Gauge({
      name: 'horde_miner_executors_capacity',
      help: 'Executors the executor manager declares, per executor class.',
      labelNames: ['executor_class'],
      registers,
      collect() {
        this.reset();
        for (const [executorClass, { capacity }] of Object.entries(usage())) this.set({ executor_class: executorClass }, capacity);
      },
    });
  }
}
