import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { GeneratedJob, HardwareClass } from '@horde/core';
import { registerPluginForTest } from '@horde/core/testkit';
import { JOB_GENERATOR } from '@horde/core';
import plugin from './index.js';
import { GpuMatmulGenerator } from './generator.js';
import { challengedRows, leafHash, matrixRow, nodeHash, productRows, rowBytes, verifyProof } from './matrix.js';

const run = promisify(execFile);
const MATMUL = fileURLToPath(new URL('../job/matmul.mjs', import.meta.url));
const testClass: HardwareClass = {
  id: 'always_on.test',
  description: 't',
  spinUpSeconds: 3,
  shortCode: 'T',
  resources: {},
  dockerPreset: 'none',
  proof: { jobGenerators: ['gpu-matmul'], maxJobSeconds: 15 },
};

/** Runs the CPU solver as the process runner would. */
async function solve(job: GeneratedJob) {
  const started = performance.now();
  const { stdout, stderr } = await run('node', [MATMUL, ...job.spec.command], { maxBuffer: 8 << 20 });
  return { stdout, stderr, artifacts: {}, uploadResults: {}, timeTookMs: performance.now() - started };
}

type Answer = { format: string; root: string; rows: Array<{ index: number; values: string; proof: string[] }> };

describe('gpu-matmul arithmetic', () => {
  it('computes C = A·B exactly, rows generated independently from the seed', () => {
    const n = 5;
    const a = Array.from({ length: n }, (_, r) => matrixRow('s', 'A', r, n));
    const b = Array.from({ length: n }, (_, r) => matrixRow('s', 'B', r, n));
    const naive = (r: number) => Array.from({ length: n }, (_, j) => a[r]!.reduce((sum, x, i) => sum + x * b[i]![j]!, 0));
    const [row2, row4] = productRows('s', n, [2, 4]);
    expect([...row2!]).toEqual(naive(2));
    expect([...row4!]).toEqual(naive(4));
    expect(matrixRow('s', 'A', 3, 40)).not.toEqual(matrixRow('t', 'A', 3, 40));
  });

  it('verifies Merkle proofs over an odd number of leaves and refuses a wrong one', () => {
    const leaves = [0, 1, 2, 3, 4].map((i) => leafHash(i, Buffer.from([i])));
    const l1 = [nodeHash(leaves[0]!, leaves[1]!), nodeHash(leaves[2]!, leaves[3]!), leaves[4]!];
    const l2 = [nodeHash(l1[0]!, l1[1]!), l1[2]!];
    const root = nodeHash(l2[0]!, l2[1]!);
    expect(verifyProof(root, 2, leaves[2]!, [leaves[3]!, l1[0]!, l2[1]!], 5)).toBe(true);
    expect(verifyProof(root, 4, leaves[4]!, [l2[0]!], 5)).toBe(true); // carried up twice
    expect(verifyProof(root, 2, leaves[1]!, [leaves[3]!, l1[0]!, l2[1]!], 5)).toBe(false);
    expect(verifyProof(root, 4, leaves[4]!, [l2[0]!, l2[0]!], 5)).toBe(false);
  });
});

describe('gpu-matmul job', () => {
  const generator = new GpuMatmulGenerator({ classes: { 'always_on.test': { n: 48, challenges: 6, timeLimitSeconds: 15 } } });

  it('passes the real CPU solver: challenged rows proven under its root and equal to the product', async () => {
    const job = await generator.generate({ jobUuid: 'j1', minerHotkey: '5M', executorClass: testClass, cycle: 1 });
    expect(job.spec).toMatchObject({ image: 'horde/job-gpu-matmul:1', dockerRunOptionsPreset: 'none' });
    const result = await solve(job);
    const verdict = await job.verify(result);
    expect(verdict).toMatchObject({ correct: true, inTime: true });
    expect(verdict.details).toMatch(/^6 challenged rows of a 48² product correct/);
  });

  it('fails a miner that fakes a row, answers other rows, or commits to a product it did not compute', async () => {
    const job = await generator.generate({ jobUuid: 'j2', minerHotkey: '5M', executorClass: testClass, cycle: 1 });
    const honest = await solve(job);
    const answer = JSON.parse(honest.stdout) as Answer;
    const again = (changed: Answer) => job.verify({ ...honest, stdout: `${JSON.stringify(changed)}\n` });

    // A row changed after the commitment no longer sits under the root.
    const forged = Buffer.from(answer.rows[0]!.values, 'base64');
    forged.writeInt32LE(forged.readInt32LE(0) + 1, 0);
    expect(
      (await again({ ...answer, rows: [{ ...answer.rows[0]!, values: forged.toString('base64') }, ...answer.rows.slice(1)] })).details,
    ).toMatch(/is not under the committed root/);

    // Rows other than those the root selects.
    const shifted = answer.rows.map((row) => ({ ...row, index: (row.index + 1) % 48 }));
    expect((await again({ ...answer, rows: shifted })).details).toMatch(/not the ones the root selects/);

    // A cheater that commits to garbage (here: zeros) answers consistently with its own root, and
    // fails the recomputation of the challenged rows.
    const zeros = Buffer.alloc(48 * 4);
    const leaves = Array.from({ length: 48 }, (_, i) => leafHash(i, zeros));
    const levels = [leaves];
    while (levels.at(-1)!.length > 1) {
      const below = levels.at(-1)!;
      const above: Buffer[] = [];
      for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? nodeHash(below[i]!, below[i + 1]!) : below[i]!);
      levels.push(above);
    }
    const root = levels.at(-1)![0]!.toString('hex');
    const seed = job.spec.command[1]!;
    const rows = challengedRows(seed, root, 48, 6).map((index) => {
      const proof: string[] = [];
      let position = index;
      for (const level of levels.slice(0, -1)) {
        const sibling = position % 2 === 0 ? position + 1 : position - 1;
        if (sibling < level.length) proof.push(level[sibling]!.toString('hex'));
        position = Math.floor(position / 2);
      }
      return { index, values: zeros.toString('base64'), proof };
    });
    expect((await again({ format: answer.format, root, rows })).details).toMatch(/of the product is wrong/);

    expect((await job.verify({ ...honest, stdout: 'not json\n' })).details).toMatch(/^answer is not JSON/);
    expect(await job.verify({ ...honest, timeTookMs: 15_001 })).toMatchObject({ correct: true, inTime: false });
  });

  it('checks the product the same way the solver computes it (row bytes little-endian)', () => {
    const [row] = productRows('x', 4, [1]);
    expect(rowBytes(row!).length).toBe(16);
  });

  it('loads as a plugin and proves the classes it has sizes for', async () => {
    const registered = await registerPluginForTest(plugin, {
      config: { classes: { 'my.class': { n: 16, challenges: 2, timeLimitSeconds: 5 } } },
    });
    const [provided] = registered.all(JOB_GENERATOR);
    expect(provided?.name).toBe('gpu-matmul');
    expect(provided?.supports({ ...testClass, id: 'always_on.gpu.h100-80gb' })).toBe(true);
    expect(provided?.supports({ ...testClass, id: 'my.class' })).toBe(true);
    expect(provided?.supports({ ...testClass, id: 'spin_up-4min.gpu-24gb' })).toBe(false);
    expect(() => new GpuMatmulGenerator({ classes: { bad: { n: 1, challenges: 1, timeLimitSeconds: 1 } } })).toThrow(/classes\.bad\.n/);
  });
});
