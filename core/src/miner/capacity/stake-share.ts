import type { CapacityClaimant, CapacityDecision, CapacityPolicy, CapacityRequest } from '../../contracts/index.js';

/**
 * Each claimant's fair share of `capacity` executors, in proportion to stake, as a fraction
 * (0.5 of one executor is a half share of its time). Equal shares when nobody has stake.
 */
export function stakeShares(capacity: number, claimants: readonly CapacityClaimant[]): Map<string, number> {
  const totalStake = claimants.reduce((sum, c) => sum + Math.max(0, c.stake), 0);
  return new Map(
    claimants.map((c) => [c.validatorHotkey, capacity * (totalStake > 0 ? Math.max(0, c.stake) / totalStake : 1 / claimants.length)]),
  );
}

/**
 * The default `CapacityPolicy` (the ComputeHorde roadmap's "capacity by validator stake; idle
 * capacity to low-stake validators"): among the validators competing now, each is owed a share
 * of the class's executors in proportion to its stake.
 *  - A validator holding less than its share gets a free executor.
 *  - One holding its share or more gets one only if enough free executors stay for every other
 *    claimant to reach its own share (rounded up); so when the others are idle it may take all.
 * With fewer executors than claimants, shares below one executor are time shares: whoever holds
 * nothing gets the next free executor, so no claimant starves.
 * When requests wait for an executor, a freed one is offered first to the validator furthest
 * below its share (`priority`: share minus held).
 */
export function stakeProportionalPolicy(): CapacityPolicy {
  return {
    name: 'stake-proportional',
    // A freed executor goes first to the validator furthest below its share.
    priority(request: CapacityRequest): number {
      const held = request.claimants.find((c) => c.validatorHotkey === request.validatorHotkey)?.held ?? 0;
      return (stakeShares(request.capacity, request.claimants).get(request.validatorHotkey) ?? 0) - held;
    },
    decide(request: CapacityRequest): CapacityDecision {
      const shares = stakeShares(request.capacity, request.claimants);
      const held = request.claimants.find((c) => c.validatorHotkey === request.validatorHotkey)?.held ?? 0;
      const share = shares.get(request.validatorHotkey) ?? 0;
      if (held < share) return { admit: true };
      let owedToOthers = 0;
      for (const claimant of request.claimants) {
        if (claimant.validatorHotkey === request.validatorHotkey) continue;
        owedToOthers += Math.max(0, Math.ceil(shares.get(claimant.validatorHotkey) ?? 0) - claimant.held);
      }
      if (request.free > owedToOthers) return { admit: true };
      return {
        admit: false,
        reason:
          `this validator holds ${held} of ${request.capacity} executors of class ${request.executorClass} (stake share ${share.toFixed(2)}); ` +
          `the ${request.free} free one${request.free === 1 ? ' is' : 's are'} kept for other validators' shares`,
      };
    },
  };
}
