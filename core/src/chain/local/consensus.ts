/**
 * LocalChain's epoch: a small stake-weighted consensus in the spirit of Yuma, enough for a devnet
 * where validators' weights must visibly turn into miner incentive. It is NOT subtensor's Yuma
 * consensus (no bonds, no EMA, no liquid alpha, no weight masking by registration block).
 *
 * For the validators that have a permit, stake > 0 and a weight row:
 * 1. s_i  = stake_i / Σ stake                     (relative stake)
 * 2. W_ij = row i normalised to sum 1
 * 3. C_j  = stake-weighted median of column j: the largest w such that the validators with
 *           W_ij ≥ w hold at least half of the stake (kappa = 0.5)
 * 4. R_j  = Σ_i s_i · min(W_ij, C_j)              (rank: weight above consensus is clipped)
 *    incentive_j = R_j / Σ R
 * 5. T_i  = Σ_j min(W_ij, C_j)                    (how much of i's weight survived clipping)
 *    dividends_i = s_i · T_i / Σ (s · T)
 * 6. Each epoch emits `emission` alpha: half to miners by incentive, half to validators by
 *    dividends (subtensor gives 18% to the owner and splits the rest 50/50; no owner cut here).
 */

export interface ConsensusNeuron {
  readonly uid: number;
  /** Total stake (alpha + tao × TaoWeight). */
  readonly stake: number;
  readonly validatorPermit: boolean;
}

export interface ConsensusInput {
  readonly neurons: readonly ConsensusNeuron[];
  /** Weight rows by setter uid: destination uid → raw value (u16). */
  readonly weights: ReadonlyMap<number, ReadonlyMap<number, number>>;
  /** Alpha emitted this epoch. */
  readonly emission: number;
}

export interface ConsensusResult {
  readonly incentive: Map<number, number>;
  readonly dividends: Map<number, number>;
  readonly consensus: Map<number, number>;
  readonly emission: Map<number, number>;
}

export const KAPPA = 0.5;

export function computeConsensus(input: ConsensusInput): ConsensusResult {
  const uids = input.neurons.map((n) => n.uid);
  const zero = () => new Map(uids.map((uid) => [uid, 0]));
  const result: ConsensusResult = { incentive: zero(), dividends: zero(), consensus: zero(), emission: zero() };

  const validators: Array<{ uid: number; stake: number; row: Map<number, number> }> = [];
  for (const neuron of input.neurons) {
    const raw = input.weights.get(neuron.uid);
    if (!neuron.validatorPermit || neuron.stake <= 0 || !raw) continue;
    let total = 0;
    for (const [dest, value] of raw) if (result.incentive.has(dest)) total += value;
    if (total <= 0) continue;
    const row = new Map<number, number>();
    for (const [dest, value] of raw) if (result.incentive.has(dest)) row.set(dest, value / total);
    validators.push({ uid: neuron.uid, stake: neuron.stake, row });
  }
  const totalStake = validators.reduce((acc, v) => acc + v.stake, 0);
  if (validators.length === 0 || totalStake <= 0) return result;
  const share = new Map(validators.map((v) => [v.uid, v.stake / totalStake]));

  for (const uid of uids) {
    const column = validators.map((v) => ({ w: v.row.get(uid) ?? 0, s: share.get(v.uid)! })).sort((a, b) => b.w - a.w);
    let supported = 0;
    let c = 0;
    for (const { w, s } of column) {
      supported += s;
      // Small tolerance: shares are floats and must still reach exactly one half.
      if (supported >= KAPPA - 1e-12) {
        c = w;
        break;
      }
    }
    result.consensus.set(uid, c);
  }

  const rank = zero();
  const trust = new Map<number, number>();
  for (const v of validators) {
    let kept = 0;
    for (const [dest, w] of v.row) {
      const clipped = Math.min(w, result.consensus.get(dest)!);
      rank.set(dest, rank.get(dest)! + share.get(v.uid)! * clipped);
      kept += clipped;
    }
    trust.set(v.uid, kept);
  }

  const rankTotal = [...rank.values()].reduce((a, b) => a + b, 0);
  if (rankTotal > 0) for (const [uid, r] of rank) result.incentive.set(uid, r / rankTotal);
  const dividendTotal = validators.reduce((acc, v) => acc + share.get(v.uid)! * trust.get(v.uid)!, 0);
  if (dividendTotal > 0) {
    for (const v of validators) result.dividends.set(v.uid, (share.get(v.uid)! * trust.get(v.uid)!) / dividendTotal);
  }

  for (const uid of uids) {
    result.emission.set(uid, (input.emission / 2) * (result.incentive.get(uid)! + result.dividends.get(uid)!));
  }
  return result;
}
