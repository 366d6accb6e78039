import pino from 'pino';
import { runExecutorManagerContract } from '@horde/core/testkit';
import { LocalExecutorManager } from './local-executor-manager.js';

// The local manager proves the semantics the miner's pool relies on, like any manager must.
runExecutorManagerContract({
  name: 'local',
  create: () =>
    new LocalExecutorManager({ executorClass: 'always_on.test', executors: 2, killGraceMs: 2_000, logger: pino({ level: 'silent' }) }),
});
