import { createCipheriv, createHash, randomBytes, randomInt } from 'node:crypto';

/**
 * The `horde-hash-crack/1` challenge, as the validator builds it and `job/crack.mjs` solves it.
 * Both sides must agree byte for byte; the format is described in the package README.
 */
export const FORMAT = 'horde-hash-crack/1';

export const ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type HashAlgorithm = (typeof ALGORITHMS)[number];

/** How hard one job is. Sized per hardware class (see `params.ts`). */
export interface CrackParams {
  /** One batch per entry, solved in this order; each batch unlocks the next. */
  readonly algorithms: readonly HashAlgorithm[];
  /** Characters passwords are made of (ASCII letters and digits). */
  readonly alphabet: string;
  /** Password length; the search space is `alphabet.length ** length` per batch. */
  readonly length: number;
  /** Passwords hidden per batch. */
  readonly hashesPerBatch: number;
}

export interface EncryptedBatch {
  readonly algorithm: HashAlgorithm;
  readonly alphabet: string;
  readonly length: number;
  /** Salt appended to each password before hashing, hex. */
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
  /** AES-256-GCM ciphertext (base64) of the JSON array of hex digests. */
  readonly hashes: string;
}

export interface CrackPayload {
  readonly format: typeof FORMAT;
  readonly batches: readonly EncryptedBatch[];
}

export interface Challenge {
  readonly payload: CrackPayload;
  /** Goes on the job's command line (`--key`): unlocks batch 0, so the work cannot start before the job request. */
  readonly key: string;
  /** What the job must print. */
  readonly answer: string;
}

export function batchKey(secret: string): Buffer {
  return createHash('sha256').update(`${FORMAT}:${secret}`).digest();
}

/** sha256 hex of all passwords, sorted and joined by newlines. */
export function answerOf(passwords: readonly string[]): string {
  return createHash('sha256')
    .update([...passwords].sort().join('\n'))
    .digest('hex');
}

export function searchSpace(params: Pick<CrackParams, 'alphabet' | 'length'>): number {
  return params.alphabet.length ** params.length;
}

function passwordAt(index: number, alphabet: string, length: number): string {
  let rest = index;
  const chars: string[] = [];
  for (let position = 0; position < length; position++) {
    chars.unshift(alphabet[rest % alphabet.length]!);
    rest = Math.floor(rest / alphabet.length);
  }
  return chars.join('');
}

/** `count` distinct random passwords from the search space. */
function pickPasswords(params: CrackParams): string[] {
  const space = searchSpace(params);
  const picked = new Set<string>();
  while (picked.size < params.hashesPerBatch) picked.add(passwordAt(randomInt(space), params.alphabet, params.length));
  return [...picked];
}

function encrypt(json: unknown, key: Buffer): Pick<EncryptedBatch, 'iv' | 'tag' | 'hashes'> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const hashes = Buffer.concat([cipher.update(JSON.stringify(json), 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), hashes: hashes.toString('base64') };
}

/** Throws a RangeError naming the problem when `params` cannot make a valid challenge. */
export function checkParams(params: CrackParams): void {
  if (params.algorithms.length === 0) throw new RangeError('algorithms: at least one batch is needed');
  if (!/^[a-zA-Z0-9]+$/.test(params.alphabet) || new Set(params.alphabet).size !== params.alphabet.length)
    throw new RangeError('alphabet: distinct ASCII letters and digits only');
  if (!Number.isInteger(params.length) || params.length < 1) throw new RangeError('length: a positive integer');
  if (searchSpace(params) > 2 ** 48) throw new RangeError('alphabet ** length must stay below 2^48');
  if (params.hashesPerBatch < 1 || params.hashesPerBatch > searchSpace(params) / 2)
    throw new RangeError('hashesPerBatch: at least 1 and at most half the search space');
}

/** Builds a fresh challenge; every call draws new passwords, salts and keys. */
export function createChallenge(params: CrackParams): Challenge {
  checkParams(params);
  const key = randomBytes(24).toString('base64url');
  const batches: EncryptedBatch[] = [];
  const everyPassword: string[] = [];
  let secret = key;
  for (const algorithm of params.algorithms) {
    const passwords = pickPasswords(params);
    const salt = randomBytes(8);
    const digests = passwords.map((password) =>
      createHash(algorithm)
        .update(Buffer.concat([Buffer.from(password, 'utf8'), salt]))
        .digest('hex'),
    );
    batches.push({
      algorithm,
      alphabet: params.alphabet,
      length: params.length,
      salt: salt.toString('hex'),
      ...encrypt(digests, batchKey(secret)),
    });
    everyPassword.push(...passwords);
    secret = [...passwords].sort().join('\n');
  }
  return { payload: { format: FORMAT, batches }, key, answer: answerOf(everyPassword) };
}
