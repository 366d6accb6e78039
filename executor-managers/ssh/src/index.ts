import { definePlugin, EXECUTOR_MANAGER } from '@horde/core';
import { sshManagerConfigSchema } from './config.js';
import { SshExecutorManager } from './ssh-executor-manager.js';

export { sshHostSchema, sshManagerConfigSchema, type SshHostConfig, type SshManagerConfig } from './config.js';
export { SshExecutorManager, type SshExecutorManagerOptions, type HostHealth } from './ssh-executor-manager.js';
export { NoFreeHostError } from './errors.js';

/**
 * `@horde/executor-manager-ssh`: executors run on a fleet of SSH hosts, one per host at a time.
 *
 *   plugins:
 *     - name: '@horde/executor-manager-ssh'
 *       config:
 *         hosts:
 *           - { host: gpu1.example.com, username: horde, privateKeyPath: /etc/horde/id_ed25519,
 *               executorClass: always_on.llm.a6000, hostKeySha256: 'SHA256:…' }
 */
export default definePlugin({
  name: '@horde/executor-manager-ssh',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'runs executor agents on a fleet of SSH hosts (one per host at a time)',
  provides: [EXECUTOR_MANAGER],
  configSchema: sshManagerConfigSchema,
  register(ctx) {
    ctx.provide(EXECUTOR_MANAGER, {
      useValue: new SshExecutorManager({ ...ctx.config, logger: ctx.logger }),
    });
  },
});
