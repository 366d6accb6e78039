/**
 * `horde devnet --validator-workers 2 --postgres URL`: the devnet's validator is two worker
 * processes (`horde validator --workers 2`) over its PostgreSQL database. The summary still shows
 * each miner's weight read back from the chain, and each counted cycle's weights are committed once
 * and revealed once, although two processes could each do the cycle work.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { devnetProcesses, horde, readSummary, SHORT_DEVNET, tempDirs } from '../support/devnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { pgAdminUrl } from '../support/services.js';

const dirs = tempDirs();
const databases: string[] = [];

async function query<T>(database: string, sql: string): Promise<T[]> {
  const url = new URL(pgAdminUrl());
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  dirs.cleanup();
  if (databases.length === 0) return;
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    for (const name of databases) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
});

describe('horde devnet --validator-workers', () => {
  it('runs the validator as 2 workers on PostgreSQL: chain weights in the summary, one commit and one reveal per cycle', async () => {
    requireBuiltCli();
    const base = `horde_dnw_${randomBytes(3).toString('hex')}`;
    const url = new URL(pgAdminUrl());
    url.pathname = `/${base}`;
    databases.push(...['chain', 'validator', 'trusted_miner', 'miner_1', 'miner_2'].map((name) => `${base}_${name}`));
    const dataDir = join(dirs.make('horde-devnet-workers-'), 'run');
    const json = join(dataDir, '..', 'summary.json');
    const run = await horde(
      [
        'devnet',
        '--cycles',
        '2',
        '--miners',
        '2',
        '--cheaters',
        '1',
        '--validator-workers',
        '2',
        '--postgres',
        url.toString(),
        '--data-dir',
        dataDir,
        '--json',
        json,
        ...SHORT_DEVNET,
      ],
      170_000,
    );
    // What the devnet said, when it did not finish: its progress lines name the phase it stuck in.
    if (run.code !== 0) console.error(run.stdout.slice(-6000));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Validator: 2 worker processes sharing its PostgreSQL database');
    // Batches report the jobs their tasks planned (2 miners × 2 executors), not 0.
    expect(run.stdout).toMatch(/batch of cycle \d+ started: 4 jobs on 2 miners/);
    expect(run.stdout).not.toMatch(/started: 0 jobs/);
    const summary = readSummary(json);
    expect(summary.settings).toMatchObject({ store: 'postgres', validatorWorkers: 2 });
    const [honest, cheater] = summary.miners;
    expect(honest!.chainWeight).toBeCloseTo(1, 4);
    expect(honest!.weight).toBe(1);
    expect(cheater!.weight).toBe(0);
    expect(cheater!.chainWeight).toBe(0);

    // Two worker processes ran: the supervisor started both, and batch tasks ran on the pool.
    const log = readFileSync(summary.logs['validator']!, 'utf8');
    expect(log).toContain('validator worker 0 started');
    expect(log).toContain('validator worker 1 started');
    expect(log).toContain('"msg":"batch task finished"');

    // Once per cycle: one committed row per cycle the validator scored, one chain commit for each,
    // and each counted cycle's commit revealed (once: a second reveal of a commit is refused by the chain).
    const committed = await query<{ cycle: number; n: string }>(
      `${base}_validator`,
      "SELECT cycle, count(*) AS n FROM validator_weights WHERE status = 'committed' GROUP BY cycle ORDER BY cycle",
    );
    for (const row of committed) expect({ cycle: row.cycle, n: Number(row.n) }).toEqual({ cycle: row.cycle, n: 1 });
    const cycles = committed.map((row) => Number(row.cycle));
    expect(cycles).toEqual(expect.arrayContaining(summaryCycles(summary)));
    const commits = await query<{ commit_hash: string; status: string; commit_block: string | null; revealed_block: string | null }>(
      `${base}_chain`,
      'SELECT commit_hash, status, commit_block, revealed_block FROM chain_weight_commits ORDER BY id',
    );
    // Every commit belongs to one cycle (none sent twice); the last scored cycle may still await its reveal.
    expect(commits).toHaveLength(committed.length);
    expect(new Set(commits.map((c) => c.commit_hash)).size).toBe(commits.length);
    const revealed = commits.filter((c) => c.status === 'revealed');
    expect(revealed.length).toBeGreaterThanOrEqual(summary.cycles);
    const revealLines = log.split('\n').filter((line) => line.includes('"msg":"weights revealed"'));
    for (const commit of revealed)
      expect(revealLines.filter((line) => line.includes(`"commitBlock":${Number(commit.commit_block)},`))).toHaveLength(1);
    expect(devnetProcesses(dataDir)).toEqual([]);
  }, 180_000);

  it('refuses --validator-workers 2 without --postgres before starting anything', async () => {
    requireBuiltCli();
    const dataDir = join(dirs.make('horde-devnet-workers-'), 'never');
    const run = await horde(['devnet', '--validator-workers', '2', '--data-dir', dataDir], 20_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--validator-workers 2 needs --postgres URL');
  }, 30_000);
});

/** The counted cycles' indexes, from the summary's per-cycle weights (the cycles are the last ones scored). */
function summaryCycles(summary: ReturnType<typeof readSummary>): number[] {
  return (summary as unknown as { cycleIndexes?: number[] }).cycleIndexes ?? [];
}
