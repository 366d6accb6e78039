/**
 * The miner manifest inside a knowledge commitment, in ComputeHorde's format
 * (`compute_horde/manifest_utils.py`): an envelope `<M:...>` appended to whatever else the hotkey
 * commits, holding `<short code><count>` pairs joined by `;` and sorted by short code, e.g.
 * `<M:C4;L2>`. The whole commitment is at most 128 bytes (one `Raw128` field on chain). An empty
 * envelope `<M:>` is a valid manifest with no executors (a paused miner).
 */
import { CommitmentError } from './errors.js';

export const MAX_COMMITMENT_BYTES = 128;

/** ComputeHorde's short codes. Hardware-class plugins add their own letters (`HardwareClass.shortCode`). */
export const COMPUTE_HORDE_SHORT_CODES: Readonly<Record<string, string>> = {
  'always_on.gpu-24gb': 'A',
  'spin_up-4min.gpu-24gb': 'S',
  'always_on.llm.a6000': 'L',
  'always_on.test': 'T',
  'always_on.cpu.8c.16gb': 'C',
};

/** Executor class id → number of executors. */
export type Manifest = Readonly<Record<string, number>>;

const ENVELOPE = /<M:([^>]*)>/;
const ENVELOPES = /<M:([^>]*)>/g;

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function checkShortCodes(shortCodes: Readonly<Record<string, string>>): Map<string, string> {
  const byCode = new Map<string, string>();
  for (const [cls, code] of Object.entries(shortCodes)) {
    // One character, and not one the format itself uses, so `fragment[0]` parsing stays unambiguous.
    if ([...code].length !== 1 || /[;<>:\d\s]/.test(code)) {
      throw new CommitmentError(`short code ${JSON.stringify(code)} for executor class ${cls} must be one letter`);
    }
    const taken = byCode.get(code);
    if (taken !== undefined && taken !== cls) {
      throw new CommitmentError(`short code ${code} is used by both ${taken} and ${cls}; give one of them another letter`);
    }
    byCode.set(code, cls);
  }
  return byCode;
}

/** `C4;L2`: the envelope payload for `manifest`, sorted by short code. */
export function formatManifest(manifest: Manifest, shortCodes: Readonly<Record<string, string>> = COMPUTE_HORDE_SHORT_CODES): string {
  checkShortCodes(shortCodes);
  const parts: Array<[string, number]> = [];
  for (const [cls, count] of Object.entries(manifest)) {
    const code = shortCodes[cls];
    if (code === undefined) {
      throw new CommitmentError(
        `executor class ${cls} has no short code for the manifest commitment; add one to the shortCodes map (a hardware-class plugin declares it as shortCode)`,
      );
    }
    if (!Number.isInteger(count) || count < 0)
      throw new CommitmentError(`executor count for ${cls} must be a whole number ≥ 0, got ${count}`);
    parts.push([code, count]);
  }
  parts.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return parts.map(([code, count]) => `${code}${count}`).join(';');
}

/** Parses a payload such as `C4;L2`. Unknown short codes and malformed pairs are skipped, as ComputeHorde does. */
export function parseManifest(
  payload: string,
  shortCodes: Readonly<Record<string, string>> = COMPUTE_HORDE_SHORT_CODES,
): Record<string, number> {
  const byCode = checkShortCodes(shortCodes);
  const manifest: Record<string, number> = {};
  for (const raw of payload.split(';')) {
    const fragment = raw.trim();
    if (fragment.length < 2) continue;
    const cls = byCode.get(fragment[0]!);
    const count = fragment.slice(1).trim();
    if (cls === undefined || !/^\d+$/.test(count)) continue;
    manifest[cls] = Number.parseInt(count, 10);
  }
  return manifest;
}

/** Splits a raw commitment into the data outside any `<M:...>` envelope and the first envelope's payload (null when there is none). */
export function extractManifestPayload(rawCommitment: string): { otherData: string; payload: string | null } {
  const match = ENVELOPE.exec(rawCommitment);
  if (!match) return { otherData: rawCommitment, payload: null };
  return { otherData: rawCommitment.replace(ENVELOPES, '').trim(), payload: match[1]! };
}

/**
 * The commitment to write for `manifest`: the other data of `existing` (if any) followed by the new
 * envelope. Throws `CommitmentError` when the result does not fit in 128 bytes.
 */
export function encodeManifestCommitment(
  manifest: Manifest,
  options: { existing?: string | null; shortCodes?: Readonly<Record<string, string>> } = {},
): string {
  const envelope = `<M:${formatManifest(manifest, options.shortCodes)}>`;
  const otherData = options.existing ? extractManifestPayload(options.existing).otherData : '';
  const commitment = `${otherData}${envelope}`;
  const size = byteLength(commitment);
  if (size > MAX_COMMITMENT_BYTES) {
    throw new CommitmentError(
      `the commitment would be ${size} bytes, over the chain's ${MAX_COMMITMENT_BYTES}-byte limit (manifest ${envelope}, other data ${byteLength(otherData)} bytes)`,
    );
  }
  return commitment;
}

/** The manifest in a raw commitment (null when it has no `<M:...>` envelope) and the rest of the data. */
export function decodeManifestCommitment(
  rawCommitment: string,
  shortCodes: Readonly<Record<string, string>> = COMPUTE_HORDE_SHORT_CODES,
): { manifest: Record<string, number> | null; otherData: string } {
  const { otherData, payload } = extractManifestPayload(rawCommitment);
  return { manifest: payload === null ? null : parseManifest(payload, shortCodes), otherData };
}
