/**
 * `horde devnet` on the other backends: every store in PostgreSQL (`--postgres`, one database per
 * process and one for the chain), and jobs in containers on a real Docker engine (`--docker`; the
 * job image is built, or imported from this machine's Node when no registry is reachable).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { devnetProcesses, horde, readSummary, SHORT_DEVNET, tempDirs } from '../support/devnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { docker, pgAdminUrl } from '../support/services.js';

const dirs = tempDirs();
const databases: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  dirs.cleanup();
  if (databases.length)
    await admin(async (c) => {
      for (const name of databases) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
});

describe('horde devnet backends', () => {
  it('keeps every store in its own PostgreSQL database with --postgres, and refuses to reuse them', async () => {
    requireBuiltCli();
    const base = `horde_dn_${randomBytes(3).toString('hex')}`;
    const url = new URL(pgAdminUrl());
    url.pathname = `/${base}`;
    const expected = ['chain', 'validator', 'trusted_miner', 'miner_1', 'miner_2'].map((name) => `${base}_${name}`);
    databases.push(...expected);
    const dataDir = join(dirs.make('horde-devnet-pg-'), 'run');
    const json = join(dataDir, '..', 'summary.json');
    const run = await horde(
      [
        'devnet',
        '--cycles',
        '1',
        '--miners',
        '2',
        '--cheaters',
        '1',
        '--postgres',
        url.toString(),
        '--data-dir',
        dataDir,
        '--json',
        json,
        ...SHORT_DEVNET,
      ],
      90_000,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = readSummary(json);
    expect(summary.settings['store']).toBe('postgres');
    const [honest, cheater] = summary.miners;
    expect(honest!.weight).toBe(1);
    expect(honest!.chainWeight).toBeCloseTo(1, 4);
    expect(cheater!.weight).toBe(0);
    expect(cheater!.jobs.wrong).toBe(2);
    // The tables are in PostgreSQL: the validator's jobs, the chain's neurons.
    const counts = await admin(async () => {
      const read = async (db: string, sql: string) => {
        const target = new URL(pgAdminUrl());
        target.pathname = `/${db}`;
        const client = new pg.Client({ connectionString: target.toString() });
        await client.connect();
        try {
          return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
        } finally {
          await client.end();
        }
      };
      return {
        jobs: await read(`${base}_validator`, 'SELECT count(*) AS n FROM validator_jobs'),
        neurons: await read(`${base}_chain`, 'SELECT count(*) AS n FROM chain_local_neurons'),
      };
    });
    expect(counts.jobs).toBeGreaterThanOrEqual(4);
    expect(counts.neurons).toBe(3);
    expect(devnetProcesses(dataDir)).toEqual([]);

    const again = await horde(['devnet', '--miners', '2', '--postgres', url.toString()], 20_000);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`PostgreSQL already has ${expected.join(', ')}`);
  }, 100_000);

  it('runs the jobs in containers with --docker; a cheater still gets nothing', async () => {
    requireBuiltCli();
    await docker().ping();
    const dataDir = join(dirs.make('horde-devnet-docker-'), 'run');
    const json = join(dataDir, '..', 'summary.json');
    const run = await horde(
      ['devnet', '--cycles', '1', '--miners', '2', '--cheaters', '1', '--docker', '--data-dir', dataDir, '--json', json, ...SHORT_DEVNET],
      150_000,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = readSummary(json);
    expect(summary.settings['runner']).toBe('docker');
    const [honest, cheater] = summary.miners;
    expect(honest!.jobs).toMatchObject({ sent: 2, correct: 2 });
    expect(honest!.chainWeight).toBeCloseTo(1, 4);
    expect(cheater!.weight).toBe(0);
    // The honest miner's jobs ran as containers of the job image.
    const log = (await import('node:fs')).readFileSync(summary.logs['miner-1']!, 'utf8');
    expect(log).toMatch(/"container":"horde-[0-9a-f-]+-job"/);
    expect(await docker().getImage('horde/job-hash-crack:1').inspect()).toBeTruthy();
    expect(devnetProcesses(dataDir)).toEqual([]);

    const noEngine = await horde(['devnet', '--docker', '--data-dir', join(dataDir, '..', 'never')], 20_000, {
      ...process.env,
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
    expect(noEngine.code).toBe(1);
    expect(noEngine.stderr).toContain('--docker: no Docker engine answers at unix:///nonexistent/docker.sock');
  }, 180_000);
});
