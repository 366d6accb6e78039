import { definePlugin, EXECUTOR_MANAGER, METRICS } from '@horde/core';
import { vastConfigSchema } from './config.js';
import { VastExecutorManager } from './vast-executor-manager.js';

export { vastConfigSchema, vastClassSchema, type VastConfig, type VastClassConfig } from './config.js';
export { VastExecutorManager, type VastExecutorManagerOptions } from './vast-executor-manager.js';
export {
  VastClient,
  vastInstanceSchema,
  vastOfferSchema,
  type CreateInstanceRequest,
  type FilterOperator,
  type OfferQuery,
  type VastApi,
  type VastClientOptions,
  type VastInstance,
  type VastOffer,
} from './vast-api.js';
export { VastBudget, type BudgetDecision, type BudgetLimits, type BudgetRental } from './budget.js';
export { VastMetrics, type VastCostSource } from './metrics.js';
export { describeFilter, gpuModelName, offerQuery, offersToTry } from './offer-query.js';
export {
  VastApiError,
  VastAuthError,
  VastBudgetError,
  VastCapacityError,
  VastClosedError,
  VastInstanceGoneError,
  VastNoOfferError,
  VastRateLimitedError,
  VastReadyTimeoutError,
  VastRentError,
} from './errors.js';

/**
 * `@horde/executor-manager-vast`: rents machines from a vast.ai-style marketplace when an executor
 * is needed and runs the agent on them over SSH.
 *
 *   plugins:
 *     - name: '@horde/executor-manager-vast'
 *       config:
 *         apiKey: '…'
 *         image: ghcr.io/acme/horde-executor:0.1.0
 *         ssh: { privateKeyPath: /etc/horde/vast_ed25519 }
 *         classes:
 *           spin_up-4min.gpu-24gb: { maxInstances: 2, gpuName: RTX_4090, maxDphTotal: 0.6 }
 */
export default definePlugin({
  name: '@horde/executor-manager-vast',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'rents GPU machines from a vast.ai-style marketplace on demand and runs executor agents on them over SSH',
  provides: [EXECUTOR_MANAGER],
  configSchema: vastConfigSchema,
  register(ctx) {
    ctx.provide(EXECUTOR_MANAGER, {
      deps: { metrics: METRICS },
      factory: ({ metrics }) => new VastExecutorManager({ config: ctx.config, logger: ctx.logger, metrics }),
    });
  },
});
