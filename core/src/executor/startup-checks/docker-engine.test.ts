import Dockerode from 'dockerode';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { docker } from '../../../../test/support/services.js';
import { DockerEngineCheck, engineFacts } from './docker-engine.js';
import { StartupCheckFailed, type CheckContext } from './types.js';

const logger = pino({ level: 'silent' });
const context: CheckContext = {
  jobUuid: 'j',
  executorClass: 'always_on.test',
  image: null,
  timeLeftMs: () => 5_000,
  signal: new AbortController().signal,
  workDir: '/tmp',
  logger,
};

describe('engineFacts', () => {
  it('reads the security options an engine reports', () => {
    expect(
      engineFacts({
        ServerVersion: '27.3.1',
        SecurityOptions: ['name=apparmor', 'name=seccomp,profile=builtin', 'name=userns', 'name=rootless', 'name=cgroupns'],
        Runtimes: { runc: {}, nvidia: {} },
        CgroupVersion: '2',
      }),
    ).toMatchObject({
      serverVersion: '27.3.1',
      seccompProfile: 'builtin',
      apparmor: true,
      selinux: false,
      userns: true,
      rootless: true,
      nvidiaRuntime: true,
      cgroupVersion: '2',
    });
  });

  it('reports an engine with no seccomp option as running without a filter', () => {
    expect(engineFacts({ SecurityOptions: ['name=selinux'] })).toMatchObject({
      seccompProfile: null,
      selinux: true,
      apparmor: false,
      userns: false,
      rootless: false,
    });
    expect(engineFacts({})).toMatchObject({ seccompProfile: null, serverVersion: null, nvidiaRuntime: false });
  });
});

describe('DockerEngineCheck', () => {
  it('passes on the test engine and reports how it confines containers', async () => {
    const facts = await new DockerEngineCheck(docker()).run(context);
    const info = (await docker().info()) as { ServerVersion: string; SecurityOptions: string[] };
    expect(facts.serverVersion).toBe(info.ServerVersion);
    // The test dockerd runs with its default seccomp profile.
    expect(facts.seccompProfile).toBe('default');
    expect(facts.userns).toBe(info.SecurityOptions.some((o) => o.includes('name=userns')));
  });

  it('fails when the engine does not answer', async () => {
    const dead = new Dockerode({ socketPath: '/tmp/horde-no-such-docker.sock' });
    const error = await new DockerEngineCheck(dead).run(context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupCheckFailed);
    expect(error).toMatchObject({
      check: 'docker_engine',
      message: expect.stringMatching(/^startup check docker_engine failed: the Docker engine does not answer \(.*ENOENT/),
    });
  });
});
