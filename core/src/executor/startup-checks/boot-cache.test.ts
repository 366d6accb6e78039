// The per-boot store of startup check passes: what it keeps, what it refuses to use.
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOOT_CACHE_MAX_AGE_MS, CachedPerBootCheck, StartupCheckBootCache } from './boot-cache.js';
import { StartupCheckFailed, type CheckContext, type CheckFacts, type StartupCheck } from './types.js';

const logger = pino({ level: 'silent' });
const KEY = { check: 'container_escape', bootId: 'boot-1', engine: { id: 'E1', securityOptions: ['name=seccomp,profile=builtin'] } };

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'horde-boot-cache-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const context = { jobUuid: 'j1', logger } as unknown as CheckContext;

/** A check that counts its runs and passes (or fails, when told). */
class CountingCheck implements StartupCheck {
  readonly name = 'container_escape' as const;
  readonly proves = 'nothing, it counts';
  runs = 0;
  failing = false;
  async run(): Promise<CheckFacts> {
    this.runs += 1;
    if (this.failing) throw new StartupCheckFailed(this.name, 'escapable');
    return { run: this.runs };
  }
}

describe('StartupCheckBootCache', () => {
  it('gives back a pass stored under exactly the same key, whatever the order of its fields', async () => {
    const cache = new StartupCheckBootCache({ dir: join(root, 'c'), logger });
    expect(await cache.get(KEY)).toBeNull();
    await cache.put(KEY, { probeMs: 200 });
    expect(
      await cache.get({
        engine: { securityOptions: ['name=seccomp,profile=builtin'], id: 'E1' },
        bootId: 'boot-1',
        check: 'container_escape',
      }),
    ).toEqual({
      probeMs: 200,
    });
    expect(await cache.get({ ...KEY, bootId: 'boot-2' })).toBeNull();
    expect(await cache.get({ ...KEY, engine: { id: 'E1', securityOptions: [] } })).toBeNull();
  });

  it('does not use a pass older than its maximum age', async () => {
    let now = 1_000_000;
    const cache = new StartupCheckBootCache({ dir: join(root, 'c'), logger, now: () => now });
    await cache.put(KEY, { probeMs: 1 });
    now += BOOT_CACHE_MAX_AGE_MS + 1;
    expect(await cache.get(KEY)).toBeNull();
  });

  it('refuses a directory other users may write to, and a symlink, instead of trusting what is in it', async () => {
    const shared = join(root, 'shared');
    await mkdir(shared, { mode: 0o700 });
    const planted = new StartupCheckBootCache({ dir: shared, logger });
    await planted.put(KEY, { forged: true });
    expect(await planted.get(KEY)).toEqual({ forged: true });
    await chmod(shared, 0o777); // another local user could have planted that file
    expect(await planted.get(KEY)).toBeNull();
    const link = join(root, 'link');
    await chmod(shared, 0o700);
    await symlink(shared, link);
    expect(await new StartupCheckBootCache({ dir: link, logger }).get(KEY)).toBeNull();
  });

  it('treats a corrupt entry as a miss', async () => {
    const dir = join(root, 'c');
    const cache = new StartupCheckBootCache({ dir, logger });
    await cache.put(KEY, { ok: true });
    const [file] = await readdir(dir);
    await writeFile(join(dir, file!), '{not json');
    expect(await cache.get(KEY)).toBeNull();
  });
});

describe('CachedPerBootCheck', () => {
  it('runs the check once per key and marks what came from the cache', async () => {
    const check = new CountingCheck();
    const cached = new CachedPerBootCheck(check, new StartupCheckBootCache({ dir: join(root, 'c'), logger }), async () => KEY);
    expect(await cached.run(context)).toEqual({ run: 1, cached: false });
    expect(await cached.run(context)).toEqual({ run: 1, cached: true });
    expect(check.runs).toBe(1);
  });

  it('never stores a failure: a broken setup is found again at the next job', async () => {
    const check = new CountingCheck();
    check.failing = true;
    const dir = join(root, 'c');
    const cached = new CachedPerBootCheck(check, new StartupCheckBootCache({ dir, logger }), async () => KEY);
    await expect(cached.run(context)).rejects.toBeInstanceOf(StartupCheckFailed);
    await expect(cached.run(context)).rejects.toBeInstanceOf(StartupCheckFailed);
    expect(check.runs).toBe(2);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  });

  it('runs the check every time, storing nothing, when the key cannot be known', async () => {
    const check = new CountingCheck();
    const dir = join(root, 'c');
    const cached = new CachedPerBootCheck(check, new StartupCheckBootCache({ dir, logger }), async () => null);
    await cached.run(context);
    await cached.run(context);
    expect(check.runs).toBe(2);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  });
});
