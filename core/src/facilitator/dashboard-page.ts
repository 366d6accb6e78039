import { formatAgo, keyCell, statusCell, type DashboardPage } from '../dashboard/view.js';
import { JOB_STATUSES } from '../protocol/enums.js';
import type { FacilitatorStore } from './store.js';
import type { ValidatorHub } from './validator-hub.js';

export interface FacilitatorPageDeps {
  readonly url: string | null;
  readonly store: FacilitatorStore;
  readonly hub: ValidatorHub;
  readonly now: () => number;
}

/** The facilitator's dashboard: organic jobs by status, the recent ones, connected validators. */
export async function facilitatorPage(deps: FacilitatorPageDeps): Promise<DashboardPage> {
  const now = deps.now();
  const [counts, recent] = await Promise.all([deps.store.jobCountsByStatus(), deps.store.recentJobs(30)]);
  const validators = deps.hub.validators();
  const total = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
  return {
    title: 'horde facilitator',
    subtitle: deps.url ?? 'not listening',
    tiles: [
      { label: 'Organic jobs', value: String(total) },
      { label: 'Completed', value: String(counts.completed ?? 0), tone: 'ok' },
      {
        label: 'Failed',
        value: String((counts.failed ?? 0) + (counts.horde_failed ?? 0)),
        tone: (counts.failed ?? 0) + (counts.horde_failed ?? 0) > 0 ? 'bad' : undefined,
      },
      {
        label: 'Validators live',
        value: `${validators.filter((v) => v.live).length} / ${validators.length}`,
        tone: validators.some((v) => v.live) ? 'ok' : 'warn',
      },
    ],
    sections: [
      {
        kind: 'table',
        id: 'jobs-by-status',
        title: 'Organic jobs by status',
        columns: ['Status', 'Jobs'],
        rows: JOB_STATUSES.filter((status) => (counts[status] ?? 0) > 0).map((status) => [statusCell(status), counts[status] ?? 0]),
        empty: 'No organic job submitted yet.',
      },
      {
        kind: 'table',
        id: 'validators',
        title: 'Validators',
        note: 'Validators with a websocket open; jobs go only to live ones.',
        columns: ['Validator', 'Connections', 'Live', 'Last heartbeat'],
        rows: validators.map((v) => [
          keyCell(v.hotkey),
          v.connections,
          v.live ? { text: 'yes', tone: 'ok' } : { text: 'no', tone: 'warn' },
          formatAgo(v.lastSeen, now),
        ]),
        empty: 'No validator connected.',
      },
      {
        kind: 'table',
        id: 'recent-jobs-wide',
        title: 'Recent organic jobs',
        columns: ['Job', 'User', 'Validator', 'Class', 'Image', 'Status', 'Submitted', 'Updated'],
        rows: recent.map((job) => [
          job.uuid.slice(0, 8),
          keyCell(job.userHotkey),
          keyCell(job.targetValidatorHotkey),
          job.body.executor_class,
          job.body.docker_image,
          statusCell(job.status),
          formatAgo(job.createdAt, now),
          formatAgo(job.updatedAt, now),
        ]),
        empty: 'No organic job submitted yet.',
      },
    ],
  };
}
