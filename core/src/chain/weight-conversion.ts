/**
 * Weight preparation, ported from the bittensor SDK (`bittensor/utils/weight_utils.py`, v10.2.0):
 * `process_weights` (min allowed weights, max weight limit, exclude quantile), `normalize_max_weight`
 * and `convert_weights_and_uids_for_emit` (max-upscale to u16, drop zeros). Validators built on
 * either stack therefore put the same numbers on chain for the same scores.
 */
import { InvalidWeightsError } from './errors.js';

export const U16_MAX = 65535;

/** Python's `round()`: halves go to the even neighbour (banker's rounding). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function sum(xs: readonly number[]): number {
  let total = 0;
  for (const x of xs) total += x;
  return total;
}

/**
 * `normalize_max_weight`: scales `x` to sum 1 while no entry exceeds `limit`, by clipping the largest
 * entries at a common cutoff. When the limit cannot be met (`len × limit ≤ 1`) or `x` is all zeros,
 * every entry gets `1 / len`.
 */
export function normalizeMaxWeight(x: readonly number[], limit = 0.1): number[] {
  const epsilon = 1e-7; // the SDK's numerical-stability term, kept so results match it
  const n = x.length;
  if (n === 0) return [];
  const total = sum(x);
  if (total === 0 || n * limit <= 1) return x.map(() => 1 / n);

  const values = [...x].sort((a, b) => a - b);
  const estimation = values.map((v) => v / total);
  if (Math.max(...estimation) <= limit) return x.map((w) => w / total);

  const cumsum: number[] = [];
  let running = 0;
  for (const e of estimation) cumsum.push((running += e));
  let nValues = 0;
  for (let i = 0; i < n; i++) {
    const estimationSum = (n - i - 1) * estimation[i]!;
    if (estimation[i]! / (estimationSum + cumsum[i]! + epsilon) < limit) nValues++;
  }
  const cutoffScale = (limit * cumsum[nValues - 1]! - epsilon) / (1 - limit * (n - nValues));
  const cutoff = cutoffScale * total;
  const clipped = x.map((w) => (w > cutoff ? cutoff : w));
  const clippedTotal = sum(clipped);
  return clipped.map((w) => w / clippedTotal);
}

/** numpy's default (linear) quantile of a non-empty array. */
function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface ProcessWeightsOptions {
  /** Number of uids on the subnet (`SubnetworkN`). */
  readonly numNeurons: number;
  /** `MinAllowedWeights` hyperparameter. */
  readonly minAllowedWeights: number;
  /** `MaxWeightsLimit` as a fraction (u16 value / 65535). */
  readonly maxWeightLimit: number;
  /** Drop the weights below this quantile (u16-scaled, as in the SDK); 0 keeps them all. */
  readonly excludeQuantile?: number;
}

export interface UidWeights {
  readonly uids: number[];
  readonly weights: number[];
}

/**
 * `process_weights`: keeps the non-zero weights, and when there are fewer than the subnet's minimum
 * spreads a tiny weight (1e-5) over every uid so the vector is long enough; then applies the max
 * weight limit. Returns weights summing to 1.
 *
 * One deliberate difference: where the SDK adds the non-zero weights into the all-uids vector by
 * their *position* in the input, this adds them by *uid*. The two agree whenever the input lists
 * uids `0..n-1` in order, which is how the SDK is normally called.
 */
export function processWeights(uids: readonly number[], weights: readonly number[], options: ProcessWeightsOptions): UidWeights {
  const { numNeurons, minAllowedWeights, maxWeightLimit } = options;
  const nonZero = uids.map((uid, i) => ({ uid, weight: weights[i]! })).filter(({ weight }) => weight > 0);
  const allUids = Array.from({ length: numNeurons }, (_, i) => i);

  if (nonZero.length === 0 || numNeurons < minAllowedWeights) {
    return { uids: allUids, weights: allUids.map(() => 1 / numNeurons) };
  }
  if (nonZero.length < minAllowedWeights) {
    const spread = allUids.map(() => 1e-5);
    for (const { uid, weight } of nonZero) spread[uid] = spread[uid]! + weight;
    return { uids: allUids, weights: normalizeMaxWeight(spread, maxWeightLimit) };
  }

  const q = (options.excludeQuantile ?? 0) / U16_MAX;
  const maxExclude = Math.max(0, nonZero.length - minAllowedWeights) / nonZero.length;
  const lowest = quantile(
    nonZero.map((e) => e.weight),
    Math.min(q, maxExclude),
  );
  const kept = nonZero.filter(({ weight }) => lowest <= weight);
  return {
    uids: kept.map((e) => e.uid),
    weights: normalizeMaxWeight(
      kept.map((e) => e.weight),
      maxWeightLimit,
    ),
  };
}

/**
 * `convert_weights_and_uids_for_emit`: max-upscales so the largest weight becomes 65535, rounds
 * (half to even, like Python) and drops entries that round to zero. All-zero input gives nothing.
 */
export function convertWeightsForEmit(uids: readonly number[], weights: readonly number[]): { uids: number[]; values: number[] } {
  if (uids.length !== weights.length) {
    throw new InvalidWeightsError(`uids and weights must have the same length, got ${uids.length} and ${weights.length}`);
  }
  if (weights.some((w) => w < 0)) throw new InvalidWeightsError(`a weight is negative and cannot exist on chain: ${weights.join(', ')}`);
  if (uids.some((u) => u < 0)) throw new InvalidWeightsError(`a uid is negative and cannot exist on chain: ${uids.join(', ')}`);
  const total = sum(weights);
  if (weights.length === 0 || total === 0) return { uids: [], values: [] };
  const max = Math.max(...weights);
  const out = { uids: [] as number[], values: [] as number[] };
  weights.forEach((w, i) => {
    const value = roundHalfEven((w / max) * U16_MAX);
    if (value !== 0) {
      out.uids.push(uids[i]!);
      out.values.push(value);
    }
  });
  return out;
}

export interface PrepareWeightsOptions extends ProcessWeightsOptions {}

/**
 * From a validator's scores to the exact `(uids, values)` a weight extrinsic carries: checks the
 * input, runs `processWeights` then `convertWeightsForEmit`.
 */
export function prepareWeightsForChain(
  weights: ReadonlyArray<{ readonly uid: number; readonly weight: number }>,
  options: PrepareWeightsOptions,
): { uids: number[]; values: number[] } {
  if (!Number.isInteger(options.numNeurons) || options.numNeurons <= 0) {
    throw new InvalidWeightsError(`the subnet has no neurons (n=${options.numNeurons}); there is nothing to put weights on`);
  }
  const seen = new Set<number>();
  for (const { uid, weight } of weights) {
    if (!Number.isInteger(uid) || uid < 0 || uid >= options.numNeurons) {
      throw new InvalidWeightsError(`uid ${uid} is not on the subnet (uids are 0..${options.numNeurons - 1})`);
    }
    if (!Number.isFinite(weight) || weight < 0)
      throw new InvalidWeightsError(`weight for uid ${uid} must be a finite number ≥ 0, got ${weight}`);
    if (seen.has(uid)) throw new InvalidWeightsError(`uid ${uid} appears twice`);
    seen.add(uid);
  }
  const processed = processWeights(
    weights.map((w) => w.uid),
    weights.map((w) => w.weight),
    options,
  );
  const emitted = convertWeightsForEmit(processed.uids, processed.weights);
  // The SDK's 1e-5 spread (see processWeights) rounds to 0 and is then dropped, so the vector it
  // sends is still too short and the chain refuses it with WeightVecLengthIsLow. Keep enough of
  // those entries at 1, the smallest u16 weight, to reach the minimum the chain checks
  // (min(MinAllowedWeights, SubnetworkN)).
  const required = Math.min(options.minAllowedWeights, options.numNeurons);
  if (emitted.uids.length >= required) return emitted;
  const chosen = new Map(emitted.uids.map((uid, i) => [uid, emitted.values[i]!]));
  for (const uid of processed.uids) {
    if (chosen.size >= required) break;
    if (!chosen.has(uid)) chosen.set(uid, 1);
  }
  const uids = [...chosen.keys()].sort((a, b) => a - b);
  return { uids, values: uids.map((uid) => chosen.get(uid)!) };
}
