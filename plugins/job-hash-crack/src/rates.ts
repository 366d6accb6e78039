import type { HashAlgorithm } from './challenge.js';

/** Hashes per second of one card, per algorithm (hashcat's salted modes 1410, 10810, 1710). */
export type HashRates = Readonly<Record<HashAlgorithm, number>>;

export interface RateEntry {
  /** The model as hardware classes name it (`GpuRequirements.models`). */
  readonly model: string;
  readonly rates: HashRates;
  /** Where the figure comes from: a published measurement, or an estimate and how it was made. */
  readonly source: string;
}

const G = 1e9;
/**
 * The SHA-2 kernels are bound by 32-bit integer throughput, which on Ampere, Ada and Hopper is 64
 * INT32 operations per SM per clock. The two published measurements below (RTX 3090, RTX 4090)
 * give the same rate per SM·GHz within 3 %; the other cards are estimated from their SM count and
 * boost clock with that rate, until `test/bench/gpu-hashrate` measures them (see the README).
 */
const PER_SM_GHZ = { sha256: 69.8e6, sha512: 23.0e6 };
function estimated(model: string, sms: number, boostGhz: number): RateEntry {
  const smGhz = sms * boostGhz;
  const sha256 = Math.round((PER_SM_GHZ.sha256 * smGhz) / 1e8) * 1e8;
  const sha512 = Math.round((PER_SM_GHZ.sha512 * smGhz) / 1e8) * 1e8;
  return {
    model,
    rates: { sha256, sha384: sha512, sha512 },
    source: `estimate: ${sms} SMs × ${boostGhz} GHz boost × the RTX 3090's measured rate per SM·GHz`,
  };
}

/**
 * Expected hash rate per GPU model: what the hash-crack job is sized from. SHA-384 runs the
 * SHA-512 compression function and is taken at SHA-512's rate. Override or extend it with the
 * plugin's `rates` setting (a measured figure for your cards beats any table).
 */
export const GPU_HASH_RATES: readonly RateEntry[] = [
  {
    model: 'RTX 4090',
    rates: { sha256: 21.9 * G, sha384: 7.4 * G, sha512: 7.4 * G },
    source: 'measured: hashcat 6.2.6 -b, modes 1400/1700, published by the hashcat team (Chick3nman), 2022',
  },
  {
    model: 'RTX 3090',
    rates: { sha256: 9.7 * G, sha384: 3.2 * G, sha512: 3.2 * G },
    source: 'measured: hashcat 6.1.1 -b, modes 1400/1700, published by the hashcat team (Chick3nman), 2020',
  },
  estimated('RTX A5000', 64, 1.695),
  estimated('A10', 72, 1.695),
  estimated('L4', 58, 2.04),
  estimated('RTX A6000', 84, 1.8),
  estimated('A100', 108, 1.41),
  // The PCIe card, the slower H100 (the SXM5 card: 132 SMs × 1.98 GHz, ~18 G/s): a class is sized for its slowest card.
  estimated('H100', 114, 1.755),
];

/** The CPU solver's rate on one core (`job/crack.mjs`, Node's `crypto` on a short password; see params.ts). */
export const CPU_CORE_RATES: HashRates = { sha256: 0.6e6, sha384: 0.5e6, sha512: 0.5e6 };
