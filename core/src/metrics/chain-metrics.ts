import { Histogram } from 'prom-client';
import type { Chain, Metrics } from '../contracts/index.js';

/** Chain calls the wrapper times: everything that may go to a node. */
const TIMED_METHODS = new Set<string>([
  'currentBlock',
  'chainTime',
  'metagraph',
  'hyperparameters',
  'submitWeights',
  'revealPendingWeights',
  'weights',
  'serveAxon',
  'commitment',
  'setCommitment',
]);

/** Name of the chain-latency histogram (one per process registry). */
export const CHAIN_CALL_METRIC = 'horde_chain_call_duration_seconds';

/** The chain-latency histogram of `registry`, registered on first use. */
export function chainCallHistogram(registry: Metrics): Histogram<'method' | 'outcome'> {
  const existing = registry.getSingleMetric(CHAIN_CALL_METRIC);
  if (existing) return existing as Histogram<'method' | 'outcome'>;
  return new Histogram({
    name: CHAIN_CALL_METRIC,
    help: 'Latency of chain calls (RPC for subtensor, the store for the local chain), by method and outcome (ok, error).',
    labelNames: ['method', 'outcome'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 12, 30],
    registers: [registry],
  });
}

/**
 * The same chain, with every call that may reach a node timed into `horde_chain_call_duration_seconds`.
 * Roles wrap the chain they opened; what the chain does is unchanged (same results, same errors).
 */
export function instrumentChain<C extends Chain>(chain: C, registry: Metrics): C {
  const histogram = chainCallHistogram(registry);
  return new Proxy(chain, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      // Called on the chain itself, never on the proxy (private state stays reachable).
      if (typeof property !== 'string' || !TIMED_METHODS.has(property)) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        const end = histogram.startTimer({ method: property });
        try {
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          end({ outcome: 'ok' });
          return result;
        } catch (error) {
          end({ outcome: 'error' });
          throw error;
        }
      };
    },
  });
}
