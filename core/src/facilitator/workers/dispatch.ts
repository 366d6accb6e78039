/**
 * What one facilitator worker tells the others: a job or cheat report waits for `validatorHotkey`
 * (`job`, `cheat`), or a job has a new status update (`status`: wakes the clients waiting for it).
 */
export interface Announcement {
  readonly kind: 'job' | 'cheat' | 'status';
  /** The job's uuid (for a cheat report: the reported job's). */
  readonly uuid: string;
  readonly validatorHotkey: string;
}

/** What the validator hub of a facilitator worker needs from the pool (see `FacilitatorWorkers`). */
export interface WorkerDispatch {
  /** This worker's id in claims: the backend pid of its own PostgreSQL session. */
  readonly pid: number;
  /** Which of these worker ids are still connected to PostgreSQL (alive). */
  alive(pids: readonly number[]): Promise<Set<number>>;
  /** Tells every worker (this one too) that something waits for a validator; at most once, the store stays the truth. */
  announce(announcement: Announcement): Promise<void>;
}

/** An announcement as it came over NOTIFY, or null when the payload is not one (logged by the caller). */
export function parseAnnouncement(payload: string | undefined): Announcement | null {
  if (payload === undefined) return null;
  try {
    const value = JSON.parse(payload) as Partial<Announcement>;
    if (
      (value.kind === 'job' || value.kind === 'cheat' || value.kind === 'status') &&
      typeof value.uuid === 'string' &&
      typeof value.validatorHotkey === 'string'
    )
      return { kind: value.kind, uuid: value.uuid, validatorHotkey: value.validatorHotkey };
  } catch {
    // not JSON
  }
  return null;
}
