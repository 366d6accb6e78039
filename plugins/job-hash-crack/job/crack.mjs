#!/usr/bin/env node
// horde hash-crack job: brute-forces the salted SHA-2 hashes in `payload.json` and prints the
// answer the validator expects. This is the job program itself: the Docker image runs it as its
// entrypoint, and the process job runner runs it straight from a checkout.
//
//   node crack.mjs --key <first key> [--workers N] [--solver js|hashcat] [--max-rate H]
//
// Input:  $HORDE_VOLUME_DIR/payload.json (default /volume/payload.json), format
//         `horde-hash-crack/1` (see ../README.md). Batches are chained: batch 0's hashes are
//         encrypted with a key derived from --key, which only arrives with the job request, and
//         batch i's with the passwords cracked in batch i-1, so no batch can start early.
// Output: one line on stdout, sha256 hex of all cracked passwords, sorted and joined by "\n".
// Solvers: `js` (default) tries candidates on every CPU core with worker threads; `hashcat` hands
// each batch to hashcat (GPU images set HORDE_CRACK_SOLVER=hashcat), the only way to meet the
// GPU classes' time bounds. `--max-rate H` (testing aid) holds the js solver to at most H
// hashes per second on one thread: a stand-in for a card of that rate, to show that a challenge
// sized for one class is met at that class's rate and missed at a slower one's.
import { execFile } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const FORMAT = 'horde-hash-crack/1';
/** Below this many candidates one thread is faster than starting workers. */
const SINGLE_THREAD_BELOW = 200_000;
/** How often (in candidates) a worker looks whether the others have found everything. */
const CHECK_EVERY = 4096;

export function batchKey(secret) {
  return createHash('sha256').update(`${FORMAT}:${secret}`).digest();
}

export function answerOf(passwords) {
  return createHash('sha256')
    .update([...passwords].sort().join('\n'))
    .digest('hex');
}

function decryptHashes(batch, key) {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(batch.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(batch.tag, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(batch.hashes, 'base64')), decipher.final()]);
  return JSON.parse(plain.toString('utf8'));
}

/**
 * Tries candidates `from` (inclusive) to `to` (exclusive), where candidate i is i written in base
 * |alphabet| with `length` digits. `found` (shared Int32Array[1]) counts hits across all workers so
 * every worker stops once the last hash is cracked.
 */
function search({ algorithm, alphabet, length, saltHex, targets, from, to, maxRate }, found) {
  const salt = Buffer.from(saltHex, 'hex');
  const wanted = new Set(targets);
  const symbols = Buffer.from(alphabet, 'utf8');
  const base = symbols.length;
  const candidate = Buffer.alloc(length + salt.length);
  salt.copy(candidate, length);
  const digits = new Array(length).fill(0);
  let rest = from;
  for (let position = length - 1; position >= 0; position--) {
    digits[position] = rest % base;
    rest = Math.floor(rest / base);
  }
  for (let position = 0; position < length; position++) candidate[position] = symbols[digits[position]];

  const hits = [];
  const started = performance.now();
  const pause = maxRate ? new Int32Array(new SharedArrayBuffer(4)) : null;
  for (let index = from; index < to; index++) {
    if ((index - from) % CHECK_EVERY === 0) {
      if (Atomics.load(found, 0) >= wanted.size) break;
      // Throttled: sleep until the candidates tried so far took as long as they would at maxRate.
      if (pause) {
        const ahead = ((index - from) / maxRate) * 1000 - (performance.now() - started);
        if (ahead > 0) Atomics.wait(pause, 0, 0, ahead);
      }
    }
    const digest = createHash(algorithm).update(candidate).digest('hex');
    if (wanted.has(digest)) {
      hits.push(candidate.subarray(0, length).toString('utf8'));
      Atomics.add(found, 0, 1);
    }
    // Odometer increment of the password part.
    for (let position = length - 1; position >= 0; position--) {
      if (++digits[position] < base) {
        candidate[position] = symbols[digits[position]];
        break;
      }
      digits[position] = 0;
      candidate[position] = symbols[0];
    }
  }
  return hits;
}

function runWorker(task, found) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { task, found } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

async function crackBatch(batch, targets, workers, maxRate) {
  if (!/^[a-zA-Z0-9]+$/.test(batch.alphabet)) throw new Error('alphabet must be ASCII letters and digits');
  const space = batch.alphabet.length ** batch.length;
  const found = new Int32Array(new SharedArrayBuffer(4));
  const common = { algorithm: batch.algorithm, alphabet: batch.alphabet, length: batch.length, saltHex: batch.salt, targets, maxRate };
  if (workers <= 1 || maxRate || space < SINGLE_THREAD_BELOW) return search({ ...common, from: 0, to: space }, found);
  const slice = Math.ceil(space / workers);
  const parts = [];
  for (let from = 0; from < space; from += slice) parts.push(runWorker({ ...common, from, to: Math.min(space, from + slice) }, found));
  return (await Promise.all(parts)).flat();
}

/** hashcat hash modes for `$pass.$salt` with each algorithm. */
const HASHCAT_MODES = { sha256: '1410', sha384: '10810', sha512: '1710' };

async function crackBatchWithHashcat(batch, targets) {
  const mode = HASHCAT_MODES[batch.algorithm];
  if (!mode) throw new Error(`hashcat: unsupported algorithm ${batch.algorithm}`);
  const dir = await mkdtemp(join(tmpdir(), 'hash-crack-'));
  try {
    const hashFile = join(dir, 'hashes.txt');
    const outFile = join(dir, 'cracked.txt');
    await writeFile(hashFile, targets.map((digest) => `${digest}:${batch.salt}`).join('\n') + '\n');
    const args = [
      '--attack-mode',
      '3',
      '--hash-type',
      mode,
      '--hex-salt',
      '--potfile-disable',
      '--quiet',
      '--outfile',
      outFile,
      '--outfile-format',
      '2',
      '--custom-charset1',
      batch.alphabet,
      hashFile,
      '?1'.repeat(batch.length),
    ];
    await new Promise((resolve, reject) => {
      // hashcat exits 0 when everything was cracked and 1 when the search space ran out.
      execFile(process.env.HASHCAT_BIN ?? 'hashcat', args, { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) =>
        error && error.code !== 1 ? reject(new Error(`hashcat failed: ${stderr || error.message}`)) : resolve(),
      );
    });
    const lines = (await readFile(outFile, 'utf8').catch(() => '')).split('\n').filter((line) => line.length > 0);
    return [...new Set(lines)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function argument(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

async function main() {
  const key = argument('key');
  if (!key) throw new Error('missing --key');
  const workers = Number(argument('workers', process.env.HORDE_CRACK_WORKERS ?? availableParallelism()));
  const solver = argument('solver', process.env.HORDE_CRACK_SOLVER ?? 'js');
  if (solver !== 'js' && solver !== 'hashcat') throw new Error(`unknown solver ${solver} (js or hashcat)`);
  const maxRate = argument('max-rate') === undefined ? undefined : Number(argument('max-rate'));
  if (maxRate !== undefined && !(maxRate > 0)) throw new Error('--max-rate must be a positive number of hashes per second');
  const volumeDir = process.env.HORDE_VOLUME_DIR ?? '/volume';
  const payload = JSON.parse(await readFile(join(volumeDir, 'payload.json'), 'utf8'));
  if (payload.format !== FORMAT) throw new Error(`unsupported payload format ${payload.format}`);

  let secret = key;
  const cracked = [];
  for (const [index, batch] of payload.batches.entries()) {
    const targets = decryptHashes(batch, batchKey(secret));
    const passwords =
      solver === 'hashcat' ? await crackBatchWithHashcat(batch, targets) : await crackBatch(batch, targets, workers, maxRate);
    if (passwords.length < targets.length) throw new Error(`batch ${index}: cracked ${passwords.length} of ${targets.length} hashes`);
    cracked.push(...passwords);
    secret = [...passwords].sort().join('\n');
  }
  process.stdout.write(`${answerOf(cracked)}\n`);
}

if (isMainThread) {
  main().catch((error) => {
    process.stderr.write(`hash-crack: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
} else {
  parentPort.postMessage(search(workerData.task, workerData.found));
}
