import type { Logger } from './logger.js';

/** Executor class id → number of executors of that class. */
export type Manifest = Record<string, number>;

/**
 * How to start one executor agent: the runtime builds it (the `horde executor` command with the
 * miner's address and the single-use token), the manager decides where it runs (a local
 * subprocess, a container, a remote host over SSH, a rented machine).
 */
export interface ExecutorLaunch {
  /** Program and arguments of the executor agent, e.g. `[node, horde.js, executor, --miner-url, …]`. */
  readonly argv: readonly string[];
  /** Environment the agent needs: `MINER_ADDRESS`, `EXECUTOR_TOKEN`, `HORDE_*` settings. */
  readonly env: Readonly<Record<string, string>>;
}

export interface ExecutorStartContext {
  /** ws:// base URL the executor connects back to (`{minerAddress}/v0.1/executor_interface/{token}`). */
  readonly minerAddress: string;
  readonly launch: ExecutorLaunch;
  /**
   * Seconds the runtime waits for this executor to connect (the class's spin-up time). It is
   * informational: the runtime enforces it and kills the executor when it is exceeded.
   */
  readonly timeoutSeconds: number;
  readonly logger: Logger;
}

/** An opaque handle the manager returns from `start` and receives back in `poll` and `kill`. */
export interface ExecutorHandle {
  /** Unique and stable for the executor's life; used in logs. */
  readonly id: string;
}

export type ExecutorStatus =
  { readonly state: 'running' } | { readonly state: 'exited'; readonly exitCode: number | null; readonly reason?: string };

/**
 * Starts and stops executors on the miner's behalf. This is the contract a miner customises.
 *
 * The runtime owns everything around it, as ComputeHorde's executor pool does: one pool per
 * executor class sized from `manifest()`, reservations (accept as soon as a slot is reserved,
 * decline `busy` when none is free), the per-executor TTL (20 minutes), a cleanup loop that calls
 * `poll` every second and `kill` on expiry, and the single-use tokens. A manager therefore only has
 * to start, observe and stop executors; it never tracks jobs.
 *
 * Errors: `start` throws when it cannot start an executor (no capacity, provisioning failed); the
 * runtime reports that to the validator as the horde failure `executor_spinup_failed`. `poll` and
 * `kill` must not throw for an executor that has already exited.
 */
export interface ExecutorManager {
  /**
   * Executor counts per class that this manager can run at once. Called on every reservation, so it
   * must be cheap (cache remote lookups). Every class it reports must be startable by `start`.
   */
  manifest(): Promise<Manifest>;
  /**
   * Starts one executor agent of `executorClass` that will connect with `token`. Resolves once the
   * agent has been launched (not when it has connected). Throws if it cannot be started.
   */
  start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle>;
  /** Whether the executor is still running. Called every second by the pool's cleanup loop. */
  poll(handle: ExecutorHandle): Promise<ExecutorStatus>;
  /**
   * Stops the executor and everything it started. Harmless for an executor that already exited:
   * the pool also calls it once after `poll` reported an exit, so the manager can drop what it
   * keeps for that executor.
   */
  kill(handle: ExecutorHandle): Promise<void>;
  /** Address validators can reach the executor at (streaming jobs); null when unknown. */
  publicAddress?(handle: ExecutorHandle): Promise<string | null>;
  /** Called once at miner start and every 10 minutes: preload job images, warm machines. */
  prepare?(): Promise<void>;
  /** Called at miner shutdown after every executor has been killed. */
  close?(): Promise<void>;
  /**
   * True when `start` works while executors whose job ended are still exiting (their cleanup:
   * container removal, temp files), as on one machine that runs several. The pool then hands a
   * finished job's slot on at once and lets the old executor finish in the background. Leave it
   * unset when each executor needs a resource of its own that is only free once it exited (one SSH
   * host per executor): the slot then waits for the exit, as before.
   */
  readonly startsWhileCleaningUp?: boolean;
  /**
   * With `startsWhileCleaningUp`: the runtime handed this executor's slot on (its job ended). It
   * no longer counts against the manager's capacity; it exits by itself, or `kill` follows after
   * the drain limit.
   */
  released?(handle: ExecutorHandle): void;
  /**
   * What the manager runs on, for the miner's dashboard: one entry per machine, host or instance
   * with its state in the manager's own words (e.g. ssh `healthy` / `dead`, vast `running` with
   * its price). Called every refresh of a watched dashboard: answer from memory, never the network.
   */
  fleet?(): readonly ExecutorFleetEntry[];
}

/** One machine, host or instance an executor manager runs executors on (`ExecutorManager.fleet`). */
export interface ExecutorFleetEntry {
  readonly id: string;
  readonly executorClass: string;
  /** `healthy`, `dead`, `running`, `idle`, … */
  readonly state: string;
  /** Executors it may run at once (its GPUs). */
  readonly executors: number;
  /** Why it is in that state (the last probe's error), when it says more than the state. */
  readonly detail?: string;
  /** What it costs while rented (vast), in dollars per hour. */
  readonly dollarsPerHour?: number;
}
