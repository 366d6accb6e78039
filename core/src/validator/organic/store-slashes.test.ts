/**
 * The slash bookkeeping of cheated organic jobs on both store dialects: a landed slash is kept
 * with its transaction (so it never runs twice), a failed one with its error and attempt count,
 * and `pendingSlashes` finds exactly the cheated miner jobs still to slash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pgDatabase } from '../../../../test/support/services.js';
import type { Store } from '../../contracts/index.js';
import { openStore } from '../../store/index.js';
import { OrganicStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'horde-organic-slashes-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function open(dialect: 'sqlite' | 'postgres'): Promise<Store> {
  if (dialect === 'sqlite') {
    const store = await openStore({ client: 'sqlite', filename: join(dir, 'validator.sqlite') });
    cleanups.push(() => store.close());
    return store;
  }
  const db = await pgDatabase('horde_slashes');
  const store = await openStore({ client: 'postgres', url: db.url, poolMax: 2 });
  cleanups.push(db.drop, () => store.close());
  return store;
}

describe.each(['sqlite', 'postgres'] as const)('organic slash records (%s)', (dialect) => {
  it('keeps landed and failed slashes, and lists the cheated jobs still to slash', async () => {
    const store = await open(dialect);
    const organic = new OrganicStore(store, '5ValidatorHotkey');
    const add = async (jobUuid: string, onTrustedMiner = false) => {
      await organic.addJob({ jobUuid, executorClass: 'always_on.test', namespace: null, onTrustedMiner, signatory: 's', now: 1 });
      await organic.setMiner(jobUuid, `miner-${jobUuid}`, 0, 2);
    };
    for (const job of ['landed', 'failing', 'honest']) await add(job);
    await add('trusted', true);
    for (const job of ['landed', 'failing', 'trusted']) expect(await organic.markCheated(job, 'report', 3)).toBe(true);
    // Oldest report first (ties by job uuid).
    expect(await organic.pendingSlashes(5)).toEqual([
      { jobUuid: 'failing', minerHotkey: 'miner-failing', lastError: null },
      { jobUuid: 'landed', minerHotkey: 'miner-landed', lastError: null },
    ]);

    const wei = 12_345_678_901_234_567_890n; // past 2^63: kept exactly
    await organic.markSlashed('landed', `0x${'ab'.repeat(32)}`, wei, 2, 10);
    expect(await organic.job('landed')).toMatchObject({
      slashedAt: 10,
      slashTx: `0x${'ab'.repeat(32)}`,
      slashAttempts: 2,
      slashError: null,
    });
    expect((await store.db('validator_organic_jobs').where({ job_uuid: 'landed' }).first()).slash_amount_wei).toBe(wei.toString());

    await organic.recordSlashFailure('failing', 'HORDE_COLLATERAL_RPC_UNREACHABLE: down', 1, 11);
    await organic.recordSlashFailure('failing', 'HORDE_COLLATERAL_RPC_UNREACHABLE: down again', 1, 12);
    expect(await organic.job('failing')).toMatchObject({
      slashedAt: null,
      slashAttempts: 2,
      slashError: 'HORDE_COLLATERAL_RPC_UNREACHABLE: down again',
    });
    expect(await organic.pendingSlashes(5)).toEqual([
      { jobUuid: 'failing', minerHotkey: 'miner-failing', lastError: 'HORDE_COLLATERAL_RPC_UNREACHABLE: down again' },
    ]);
    // Out of attempts: no longer retried at start.
    expect(await organic.pendingSlashes(2)).toEqual([]);
  });
});
