import { Counter, Gauge, Histogram } from 'prom-client';
import type { ExecutorFleetEntry, Metrics } from '../contracts/index.js';
import type { ExecutorHolding, PoolClassUsage } from './pool/executor-pool.js';
import type { JobStageEnded } from './store/jobs.js';

/** Where the miner's gauges read their values at each scrape. */
export interface MinerMetricSources {
  /** The pool's usage per executor class. */
  readonly usage: () => Record<string, PoolClassUsage>;
  /** Open validator connections. */
  readonly connections: () => number;
  /** The executor manager's machines (managers that report a fleet). */
  readonly fleet?: () => readonly ExecutorFleetEntry[];
  /** Executors held now per executor class and validator hotkey (the pool's reservations). */
  readonly holders?: () => Iterable<ExecutorHolding>;
}

/** The miner's own metrics on the process registry, served at `/metrics`. */
export class MinerMetrics {
  readonly jobsAccepted: Counter<'executor_class'>;
  readonly jobsDeclined: Counter<'executor_class' | 'reason'>;
  readonly jobsFinished: Counter<'executor_class'>;
  readonly capacityWaitOverflow: Counter<'executor_class'>;
  readonly jobsFailed: Counter<'executor_class' | 'kind' | 'reason'>;
  readonly receiptsStored: Counter<'receipt_type'>;
  readonly validatorConnections: Gauge;
  readonly validatorAuthRefused: Counter<'reason'>;
  readonly badFrames: Counter<'peer'>;
  readonly executorConnectionsRefused: Counter;
  readonly stageDuration: Histogram<'executor_class' | 'stage'>;

  constructor(registry: Metrics, sources: MinerMetricSources) {
    const { usage, connections, fleet = () => [], holders = () => [] } = sources;
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
    this.capacityWaitOverflow = new Counter({
      name: 'horde_miner_capacity_wait_overflow_total',
      help: 'Initial job requests declined busy at once because their validator already had as many requests waiting for the class as it has executors.',
      labelNames: ['executor_class'],
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
      help: "Jobs that ended in a failure: kind job (the job's fault) or horde (the network's), by reason.",
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
    this.stageDuration = new Histogram({
      name: 'horde_miner_job_stage_duration_seconds',
      help: 'Time a job spent in each stage (waiting_for_executor, waiting_for_payload, running), per executor class.',
      labelNames: ['executor_class', 'stage'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
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
      name: 'horde_miner_executors_held',
      // What the capacity policy shares out: an operator sees the stake split live, and whose
      // jobs fill the executors when another validator is declined busy.
      help: 'Executors reserved or running for each validator (hotkey), per executor class.',
      labelNames: ['executor_class', 'validator'],
      registers,
      collect() {
        this.reset();
        for (const { executorClass, validatorHotkey, held } of holders())
          this.set({ executor_class: executorClass, validator: validatorHotkey }, held);
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
    new Gauge({
      name: 'horde_miner_machines',
      help: 'Machines, hosts or instances of the executor manager, per executor class and state (managers that report a fleet: ssh, vast).',
      labelNames: ['executor_class', 'state'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, { executorClass: string; state: string; n: number }>();
        for (const entry of fleet()) {
          const key = `${entry.executorClass}\u0000${entry.state}`;
          const current = counts.get(key) ?? { executorClass: entry.executorClass, state: entry.state, n: 0 };
          counts.set(key, { ...current, n: current.n + 1 });
        }
        for (const { executorClass, state, n } of counts.values()) this.set({ executor_class: executorClass, state }, n);
      },
    });
  }

  stageEnded(event: JobStageEnded): void {
    this.stageDuration.observe({ executor_class: event.executorClass, stage: event.stage }, event.durationMs / 1000);
  }
}
