import { Gauge } from 'prom-client';
import type { Metrics } from '../contracts/index.js';
import { JOB_STATUSES } from '../protocol/enums.js';
import type { FacilitatorStore } from './store.js';
import type { ValidatorHub } from './validator-hub.js';

/**
 * The facilitator's metrics, read when scraped: organic jobs by their current status (from the
 * store, so they survive a restart) and the validators' websocket connections.
 */
export function registerFacilitatorMetrics(
  registry: Metrics,
  store: Pick<FacilitatorStore, 'jobCountsByStatus'>,
  hub: Pick<ValidatorHub, 'validators'>,
): void {
  const registers = [registry];
  new Gauge({
    name: 'horde_facilitator_jobs',
    help: 'Organic jobs by their current status.',
    labelNames: ['status'],
    registers,
    async collect() {
      const counts = await store.jobCountsByStatus();
      this.reset();
      for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'horde_facilitator_validator_connections',
    help: 'Open validator websocket connections.',
    registers,
    collect() {
      this.set(hub.validators().reduce((sum, v) => sum + v.connections, 0));
    },
  });
  new Gauge({
    name: 'horde_facilitator_validators_live',
    help: 'Validators whose last heartbeat is recent enough to receive jobs.',
    registers,
    collect() {
      this.set(hub.validators().filter((v) => v.live).length);
    },
  });
}
