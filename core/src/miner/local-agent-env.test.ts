import { describe, expect, it } from 'vitest';
import { AGENT_EXTRA_CA_ENV } from '../net/extra-ca.js';
import { defaultExecutorCommand, executorLaunch, localAgentEnv } from './executor-launch.js';

const launchWith = (command: readonly string[], minerUrl = 'ws://127.0.0.1:8000') =>
  executorLaunch('token-1', {
    command,
    executorAddress: minerUrl,
    startupTimeLimitSeconds: 5,
    executor: { runner: 'process' } as Parameters<typeof executorLaunch>[1]['executor'],
  });

describe('localAgentEnv', () => {
  const own = launchWith(defaultExecutorCommand());

  it("hands this installation's agent NODE_EXTRA_CA_CERTS as HORDE_EXTRA_CA_CERTS, leaving node an empty one to ignore", () => {
    const env = localAgentEnv(own, { PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' });
    expect(env).toEqual({ PATH: '/bin', ...own.env, NODE_EXTRA_CA_CERTS: '', [AGENT_EXTRA_CA_ENV]: '/etc/ca.pem' });
  });

  it('passes it on untouched where the agent would then trust something else', () => {
    const cases: [ReturnType<typeof launchWith>, NodeJS.ProcessEnv][] = [
      [launchWith(['/usr/local/bin/my-agent-wrapper']), {}], // miner.executorCommand: not ours to rewrite
      [launchWith(defaultExecutorCommand(), 'wss://miner.example:8000'), {}], // the agent's own TLS connection
      [own, { DOCKER_HOST: 'tcp://10.0.0.2:2376' }],
      [own, { DOCKER_HOST: 'unix:///run/docker.sock', DOCKER_CERT_PATH: '/certs' }],
      [own, { NODE_OPTIONS: '--use-openssl-ca' }], // OpenSSL's store, not node's bundled roots
    ];
    for (const [launch, extra] of cases) {
      const env = localAgentEnv(launch, { NODE_EXTRA_CA_CERTS: '/etc/ca.pem', ...extra });
      expect(env.NODE_EXTRA_CA_CERTS).toBe('/etc/ca.pem');
      expect(env[AGENT_EXTRA_CA_ENV]).toBeUndefined();
    }
    expect(localAgentEnv(own, { DOCKER_HOST: 'unix:///run/docker.sock', NODE_EXTRA_CA_CERTS: '/ca' }).NODE_EXTRA_CA_CERTS).toBe('');
  });

  it("is the miner's environment with the launch over it, without a HORDE_EXTRA_CA_CERTS of the miner's own", () => {
    expect(localAgentEnv(own, { PATH: '/bin', EXECUTOR_TOKEN: 'old', [AGENT_EXTRA_CA_ENV]: '/miner/ca.pem' })).toEqual({
      PATH: '/bin',
      ...own.env,
    });
  });
});
