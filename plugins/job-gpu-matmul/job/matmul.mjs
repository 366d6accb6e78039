#!/usr/bin/env node
// horde gpu-matmul job, CPU solver: computes C = A·B for the seeded int8 matrices, commits to
// C's rows as a Merkle root, and answers the rows that the root itself selects (Fiat–Shamir),
// each with its Merkle proof. The GPU image (`matmul_gpu.py`) does the same on the GPU; this one
// is for tests, the devnet and CPU classes. Format and arithmetic: ../README.md.
//
//   node matmul.mjs --seed <seed> --n <size> --challenges <k>
//
// Output: one JSON line on stdout:
//   { "format": "horde-gpu-matmul/1", "root": "<hex>",
//     "rows": [ { "index": i, "values": "<base64 int32 LE>", "proof": ["<hex>", …] }, … ] }
import { createCipheriv, createHash } from 'node:crypto';

const FORMAT = 'horde-gpu-matmul/1';

function argument(name) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`missing --${name}`);
  return process.argv[at + 1];
}

function matrixRow(seed, which, row, n) {
  const key = createHash('sha256').update(`${FORMAT}:${which}:${seed}`).digest().subarray(0, 16);
  const blocksPerRow = Math.ceil(n / 16);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(row * blocksPerRow), 8);
  const bytes = createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(blocksPerRow * 16));
  return new Int8Array(bytes.buffer, bytes.byteOffset, n);
}

const leafHash = (index, bytes) => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(index, 1);
  return createHash('sha256').update(prefix).update(bytes).digest();
};
const nodeHash = (left, right) =>
  createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();

function main() {
  const seed = argument('seed');
  const n = Number(argument('n'));
  const challenges = Number(argument('challenges'));
  if (!Number.isInteger(n) || n < 1 || n > 65536) throw new Error('--n must be a whole number from 1 to 65536');
  const B = Array.from({ length: n }, (_, i) => matrixRow(seed, 'B', i, n));
  const rows = [];
  const leaves = [];
  for (let r = 0; r < n; r++) {
    const a = matrixRow(seed, 'A', r, n);
    const c = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const x = a[i];
      if (x === 0) continue;
      const b = B[i];
      for (let j = 0; j < n; j++) c[j] += x * b[j];
    }
    const bytes = Buffer.from(c.buffer); // little-endian on every platform Node runs on
    rows.push(bytes);
    leaves.push(leafHash(r, bytes));
  }
  // Merkle levels; an odd last node is carried up unchanged.
  const levels = [leaves];
  while (levels.at(-1).length > 1) {
    const below = levels.at(-1);
    const above = [];
    for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? nodeHash(below[i], below[i + 1]) : below[i]);
    levels.push(above);
  }
  const root = levels.at(-1)[0].toString('hex');
  const answered = [];
  for (let t = 0; t < challenges; t++) {
    const index = Number(createHash('sha256').update(`${FORMAT}:${seed}:${root}:${t}`).digest().readBigUInt64BE(0) % BigInt(n));
    const proof = [];
    let position = index;
    for (const level of levels.slice(0, -1)) {
      const sibling = position % 2 === 0 ? position + 1 : position - 1;
      if (sibling < level.length) proof.push(level[sibling].toString('hex'));
      position = Math.floor(position / 2);
    }
    answered.push({ index, values: rows[index].toString('base64'), proof });
  }
  process.stdout.write(`${JSON.stringify({ format: FORMAT, root, rows: answered })}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`gpu-matmul: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
