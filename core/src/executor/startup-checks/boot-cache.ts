/**
 * Startup check results kept for the rest of a boot, so that a check whose answer cannot change
 * between jobs runs once per boot and engine instead of once per job.
 *
 * Only a check that does not depend on the job may be cached, and only under a key that holds
 * everything its answer depends on: for the escape probe in the miner's trusted image
 * (`executor.startupCheckImage`) that is the kernel's boot id, the engine (its id, version, kernel
 * and every confinement setting `docker info` reports), the image's id (not its tag, which can be
 * moved) and the isolation the runner gives containers. Any change is another key, so a miss, so
 * the probe runs again. The probe in a job's own image is never cached (the image can be built to
 * lie to it; see `create.ts`).
 *
 * Entries are files in a directory only this user may write (mode 0700, checked before every read
 * and write): another local user must not be able to plant a pass. Only passes are stored, with
 * the time they were found; an entry older than `BOOT_CACHE_MAX_AGE_MS` is not used, which bounds
 * how long a change that `docker info` cannot show (a seccomp profile file edited in place and the
 * engine restarted) goes unnoticed.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../contracts/index.js';
import type { CheckContext, CheckFacts, StartupCheck } from './types.js';

/** How long a cached pass is used at most, whatever its key: one day. */
export const BOOT_CACHE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** `<workRoot or the OS temp dir>/horde-startup-checks-<uid>`: per user, so never shared with another one. */
export function defaultBootCacheDir(workRoot?: string): string {
  return join(workRoot ?? tmpdir(), `horde-startup-checks-${process.getuid?.() ?? 'user'}`);
}

/** What a cached result holds for: every field must be equal for the entry to be used. */
export type BootCacheKey = Readonly<Record<string, unknown>>;

interface Entry {
  readonly key: BootCacheKey;
  readonly facts: CheckFacts;
  readonly passedAt: number;
}

export interface BootCacheOptions {
  readonly dir: string;
  readonly logger: Logger;
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/** Passes of startup checks, one file per key. Every failure to read or write is a miss, never an error. */
export class StartupCheckBootCache {
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: BootCacheOptions) {
    this.maxAgeMs = options.maxAgeMs ?? BOOT_CACHE_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  /** The facts of a pass stored under exactly `key`, or null. */
  async get(key: BootCacheKey): Promise<CheckFacts | null> {
    if (!(await this.ownDirectory(false))) return null;
    let entry: Entry;
    try {
      entry = JSON.parse(await readFile(this.file(key), 'utf8')) as Entry;
    } catch {
      return null; // none yet, or unreadable: the check runs
    }
    if (stable(entry.key) !== stable(key)) return null;
    const age = this.now() - entry.passedAt;
    if (!(age >= 0 && age <= this.maxAgeMs)) return null;
    return entry.facts;
  }

  /** Stores a pass (atomically: a concurrent reader sees the old file or the new one). */
  async put(key: BootCacheKey, facts: CheckFacts): Promise<void> {
    if (!(await this.ownDirectory(true))) return;
    const file = this.file(key);
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, JSON.stringify({ key, facts, passedAt: this.now() } satisfies Entry), { mode: 0o600 });
      await rename(temporary, file);
    } catch (error) {
      this.options.logger.warn({ err: error, dir: this.options.dir }, 'could not store a startup check result; it runs again next job');
    }
  }

  private file(key: BootCacheKey): string {
    return join(this.options.dir, `${createHash('sha256').update(stable(key)).digest('hex')}.json`);
  }

  /** The directory exists (made when `create`), is no symlink, is this user's and nobody else may write in it. */
  private async ownDirectory(create: boolean): Promise<boolean> {
    const dir = this.options.dir;
    if (create) await mkdir(dir, { recursive: true, mode: 0o700 }).catch(() => {});
    const stats = await lstat(dir).catch(() => null);
    if (!stats) return false;
    const uid = process.getuid?.();
    if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid) || (stats.mode & 0o077) !== 0) {
      this.options.logger.warn(
        { dir, mode: (stats.mode & 0o777).toString(8), owner: stats.uid },
        "the startup check cache directory is not this user's alone; not using it (every check runs per job)",
      );
      return false;
    }
    return true;
  }
}

/** JSON with object keys sorted at every level. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/**
 * A check run at most once per key: `keyOf` says what its answer depends on now (null: it cannot
 * tell, so the check runs and nothing is stored). A cached pass is returned with `cached: true`
 * and the age of the pass; a failure is never stored, so a broken setup is found again each job.
 */
export class CachedPerBootCheck implements StartupCheck {
  readonly name: StartupCheck['name'];
  readonly proves: string;

  constructor(
    private readonly check: StartupCheck,
    private readonly cache: StartupCheckBootCache,
    private readonly keyOf: (context: CheckContext) => Promise<BootCacheKey | null>,
  ) {
    this.name = check.name;
    this.proves = check.proves;
  }

  async run(context: CheckContext): Promise<CheckFacts> {
    const key = await this.keyOf(context);
    if (key) {
      const cached = await this.cache.get(key);
      if (cached) return { ...cached, cached: true };
    }
    const facts = await this.check.run(context);
    if (key) await this.cache.put(key, facts);
    return { ...facts, cached: false };
  }
}
