import type { HardwareClass } from '@horde/core';
import type { CrackParams, HashAlgorithm } from './challenge.js';
import type { HashRates } from './rates.js';

/** Password characters, in the order an alphabet of size k takes them. */
const CHARACTERS = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export interface SizingPolicy {
  /** Longest bound a job may get (the class's limit, ComputeHorde's 53 s for hashcat). */
  readonly maxSeconds: number;
  /**
   * Time the solver spends besides hashing (one hashcat start per batch: device set-up, kernels).
   * It is added to the bound, not sized: a slower card pays it as well.
   */
  readonly overheadSeconds: number;
  /**
   * The bound is `overhead + margin × hashing time on the declared card`: an honest card uses
   * 1/margin of its hashing allowance, and a card is caught when the declared card is more than
   * `margin` times faster than it.
   */
  readonly margin: number;
  readonly algorithms: readonly HashAlgorithm[];
  readonly hashesPerBatch: number;
}

export interface SizedParams extends CrackParams {
  readonly timeLimitSeconds: number;
  /** Seconds the declared card needs for the hashing alone (`searchSpace × Σ 1/rate`). */
  readonly expectedHashSeconds: number;
}

/** Seconds one candidate costs across every batch (one batch per algorithm, equal search spaces). */
export function secondsPerCandidate(rates: HashRates, algorithms: readonly HashAlgorithm[]): number {
  return algorithms.reduce((sum, algorithm) => sum + 1 / rates[algorithm], 0);
}

/** Seconds a card with `rates` needs to search every batch of `params`. */
export function hashSeconds(params: Pick<CrackParams, 'algorithms' | 'alphabet' | 'length'>, rates: HashRates): number {
  return params.alphabet.length ** params.length * secondsPerCandidate(rates, params.algorithms);
}

/**
 * The challenge for a card of `rates`: the largest search space (alphabet size k, length L, with
 * k^L below 2^48) whose hashing fits `(maxSeconds − overhead) / margin`, and the bound computed
 * back from the space actually chosen, so the honest card's share of the bound is exactly
 * 1/margin whatever rounding k and L forced.
 */
export function sizeChallenge(rates: HashRates, policy: SizingPolicy): SizedParams {
  const perCandidate = secondsPerCandidate(rates, policy.algorithms);
  const budget = (policy.maxSeconds - policy.overheadSeconds) / policy.margin;
  if (!(budget > 0) || !(perCandidate > 0))
    throw new RangeError('hash-crack sizing: maxSeconds must exceed overheadSeconds and rates must be positive');
  const target = Math.min(budget / perCandidate, 2 ** 48);
  let best = { k: 2, length: 1, space: 2 };
  for (let length = 1; length <= 12; length++) {
    const k = Math.min(CHARACTERS.length, Math.floor(target ** (1 / length) + 1e-9));
    if (k < 2) break;
    const space = k ** length;
    if (space <= target && space > best.space) best = { k, length, space };
  }
  const expectedHashSeconds = best.space * perCandidate;
  return {
    algorithms: policy.algorithms,
    alphabet: CHARACTERS.slice(0, best.k),
    length: best.length,
    hashesPerBatch: Math.min(policy.hashesPerBatch, Math.floor(best.space / 2)),
    expectedHashSeconds,
    timeLimitSeconds: Math.round((policy.overheadSeconds + policy.margin * expectedHashSeconds) * 100) / 100,
  };
}

/** The slowest of a class's cards that the table knows; null when the class names a card it lacks. */
export function classRates(hardwareClass: HardwareClass, rateOf: (model: string) => HashRates | undefined): HashRates | null {
  const gpu = hardwareClass.resources.gpu;
  if (!gpu?.models || gpu.models.length === 0) return null;
  const known = gpu.models.map(rateOf);
  if (known.some((rates) => rates === undefined)) return null;
  const slowest = (algorithm: HashAlgorithm) => Math.min(...known.map((rates) => rates![algorithm])) * Math.max(1, gpu.count);
  return { sha256: slowest('sha256'), sha384: slowest('sha384'), sha512: slowest('sha512') };
}
