// The miner's executor time defaults, apart from the miner section's schema: the executor agent
// needs its startup limit's default before it connects, and building the miner section's zod
// schema for it would cost the cold start ~3 ms.

/** ComputeHorde's `MAX_EXECUTOR_TIMEOUT` (20 min): an executor older than this is killed. The one definition of the default. */
export const DEFAULT_EXECUTOR_TTL_SECONDS = 1200;
/** ComputeHorde's `DYNAMIC_EXECUTOR_STARTUP_TIME_LIMIT` code default (production uses 10). The one definition of the default. */
export const DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS = 5;
