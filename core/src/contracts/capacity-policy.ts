/** One validator that may want this miner's executors now. */
export interface CapacityClaimant {
  readonly validatorHotkey: string;
  /** Total stake from the metagraph (whole units); 0 when unknown (debug allow-list, off chain). */
  readonly stake: number;
  /** Executors of the class this validator holds now (starting, running, or waiting for its job). */
  readonly held: number;
}

/** What the miner asks before it reserves an executor for a validator's `V0InitialJobRequest`. */
export interface CapacityRequest {
  readonly executorClass: string;
  /** The validator asking; also listed in `claimants`. */
  readonly validatorHotkey: string;
  /** Executors of the class the manager declares. */
  readonly capacity: number;
  /** Of those, not held by anyone now. */
  readonly free: number;
  /**
   * Validators competing for the class now: every validator with an authenticated connection to
   * this miner, and every one holding an executor of the class. The asking validator is among them.
   */
  readonly claimants: readonly CapacityClaimant[];
}

export type CapacityDecision = { readonly admit: true } | { readonly admit: false; readonly reason: string };

/**
 * How a miner shares its executors among validators that compete for them (one per process; the
 * runtime's default is stake-proportional sharing). Asked for every initial job request of a
 * class with a free executor; a refusal becomes a `busy` decline with excuse receipts, as the
 * protocol wants. Must be a pure, quick function of the request: it runs on the request path, and
 * again for the same request when the class's executors changed before its reservation.
 */
export interface CapacityPolicy {
  readonly name: string;
  decide(request: CapacityRequest): CapacityDecision;
  /**
   * Optional. When an executor frees up while requests of several validators wait for one (the
   * miner holds a request up to `miner.capacityWaitSeconds` before declining it), the request of
   * the validator with the highest priority is offered the executor first (still subject to
   * `decide`); without it, the oldest request. Pure and quick, like `decide`.
   */
  priority?(request: CapacityRequest): number;
}
