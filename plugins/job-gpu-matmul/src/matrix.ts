import { createCipheriv, createHash } from 'node:crypto';

/**
 * The `horde-gpu-matmul/1` challenge's arithmetic, as the validator checks it and `job/matmul.mjs`
 * (CPU) and `job/matmul_gpu.py` (GPU) compute it; all three must agree byte for byte (see README).
 *
 * A and B are n×n int8 matrices drawn from the job's seed with AES-128-CTR, row by row, so any row
 * can be generated on its own; C = A·B with int32 accumulation is exact (|c| ≤ n·2^14 < 2^31 for
 * n ≤ 65536), so every honest executor, GPU or CPU, gets the same bytes.
 */
export const FORMAT = 'horde-gpu-matmul/1';
export const MAX_N = 65_536;

function matrixKey(seed: string, which: 'A' | 'B'): Buffer {
  return createHash('sha256').update(`${FORMAT}:${which}:${seed}`).digest().subarray(0, 16);
}

/** Row `row` of matrix `which`: the AES-CTR keystream starting at block `row × ⌈n/16⌉`, as int8. */
export function matrixRow(seed: string, which: 'A' | 'B', row: number, n: number): Int8Array {
  const blocksPerRow = Math.ceil(n / 16);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(row * blocksPerRow), 8);
  const cipher = createCipheriv('aes-128-ctr', matrixKey(seed, which), iv);
  const bytes = cipher.update(Buffer.alloc(blocksPerRow * 16));
  return new Int8Array(bytes.buffer, bytes.byteOffset, n);
}

/** Rows `rows` of C = A·B, computed in one pass over B (each row of B is generated once). */
export function productRows(seed: string, n: number, rows: readonly number[]): Int32Array[] {
  const aRows = rows.map((row) => matrixRow(seed, 'A', row, n));
  const out = rows.map(() => new Int32Array(n));
  for (let i = 0; i < n; i++) {
    const b = matrixRow(seed, 'B', i, n);
    for (let t = 0; t < rows.length; t++) {
      const a = aRows[t]![i]!;
      if (a === 0) continue;
      const acc = out[t]!;
      for (let j = 0; j < n; j++) acc[j] = acc[j]! + a * b[j]!;
    }
  }
  return out;
}

/** A row of C as the leaf commits to it: int32 little-endian. */
export function rowBytes(row: Int32Array): Buffer {
  const bytes = Buffer.alloc(row.length * 4);
  for (let j = 0; j < row.length; j++) bytes.writeInt32LE(row[j]!, j * 4);
  return bytes;
}

export function leafHash(index: number, bytes: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = 0;
  prefix.writeUInt32BE(index, 1);
  return createHash('sha256').update(prefix).update(bytes).digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();
}

/**
 * Checks a Merkle proof: siblings from the leaf up. On a level with an odd node count the last
 * node has no sibling and is carried up unchanged (its proof has no entry for that level).
 */
export function verifyProof(root: Buffer, index: number, leaf: Buffer, proof: readonly Buffer[], leaves: number): boolean {
  let hash = leaf;
  let position = index;
  let width = leaves;
  let used = 0;
  while (width > 1) {
    const carried = position === width - 1 && width % 2 === 1;
    if (!carried) {
      const sibling = proof[used++];
      if (!sibling || sibling.length !== 32) return false;
      hash = position % 2 === 0 ? nodeHash(hash, sibling) : nodeHash(sibling, hash);
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  return used === proof.length && hash.equals(root);
}

/** The challenged rows, derived from the commitment (Fiat–Shamir): `sha256(format:seed:root:t) mod n`. */
export function challengedRows(seed: string, rootHex: string, n: number, count: number): number[] {
  const rows: number[] = [];
  for (let t = 0; t < count; t++) {
    const digest = createHash('sha256').update(`${FORMAT}:${seed}:${rootHex}:${t}`).digest();
    rows.push(Number(digest.readBigUInt64BE(0) % BigInt(n)));
  }
  return rows;
}
