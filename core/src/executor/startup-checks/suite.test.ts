import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StartupCheckSuite } from './suite.js';
import { StartupCheckFailed, type CheckContext, type StartupCheck, type StartupCheckName } from './types.js';

const logger = pino({ level: 'silent' });

function context(executorClass = 'always_on.test', signal = new AbortController().signal): CheckContext {
  return { jobUuid: 'j', executorClass, image: 'img', timeLeftMs: () => 5_000, signal, workDir: '/tmp', logger };
}

/** A check that records that it ran, and passes or fails as told. */
function check(name: StartupCheckName, ran: string[], outcome: 'pass' | 'fail' | 'crash' = 'pass'): StartupCheck {
  return {
    name,
    proves: `${name} holds`,
    async run() {
      ran.push(name);
      if (outcome === 'fail') throw new StartupCheckFailed(name, 'said no', { detail: 1 });
      if (outcome === 'crash') throw new Error('ECONNRESET');
      return { ok: true };
    },
  };
}

describe('StartupCheckSuite', () => {
  it('runs the early checks, the GPU check for GPU classes only, then clean-up; the container checks after the image', async () => {
    const ran: string[] = [];
    const suite = new StartupCheckSuite({
      early: [check('docker_engine', ran)],
      gpu: check('nvidia_toolkit', ran),
      late: [check('container_escape', ran)],
      cleanup: async () => void ran.push('cleanup'),
      prepareCheckImage: async () => void ran.push('check image'),
      logger,
    });
    await suite.beforeImage(context('always_on.test'));
    await suite.afterImage(context('always_on.test'));
    expect(ran).toEqual(['docker_engine', 'cleanup', 'check image', 'container_escape']);

    ran.length = 0;
    const gpuSuite = new StartupCheckSuite({ early: [check('docker_engine', ran)], gpu: check('nvidia_toolkit', ran), logger });
    await gpuSuite.beforeImage(context('always_on.llm.a6000'));
    expect(ran).toEqual(['docker_engine', 'nvidia_toolkit']);
    // Checked at startup: a GPU job does not run it again.
    await gpuSuite.beforeGpuJob(context('always_on.llm.a6000'));
    expect(ran).toEqual(['docker_engine', 'nvidia_toolkit']);
  });

  it('runs the GPU check before a GPU job of a class not known as a GPU class, once', async () => {
    const ran: string[] = [];
    const suite = new StartupCheckSuite({ gpu: check('nvidia_toolkit', ran), logger });
    await suite.beforeImage(context('always_on.cpu.8c.16gb'));
    expect(ran).toEqual([]);
    await suite.beforeGpuJob(context('always_on.cpu.8c.16gb'));
    await suite.beforeGpuJob(context('always_on.cpu.8c.16gb'));
    expect(ran).toEqual(['nvidia_toolkit']);
  });

  it('stops at the first failing check and names it', async () => {
    const ran: string[] = [];
    const suite = new StartupCheckSuite({
      early: [check('docker_engine', ran, 'fail')],
      gpu: check('nvidia_toolkit', ran),
      cleanup: async () => void ran.push('cleanup'),
      logger,
    });
    const error = await suite.beforeImage(context('always_on.llm.a6000')).catch((e: unknown) => e);
    expect(error).toMatchObject({ check: 'docker_engine', facts: { detail: 1 }, message: 'startup check docker_engine failed: said no' });
    expect(ran).toEqual(['docker_engine']);
  });

  it('turns a check that crashes into a failure of that check', async () => {
    const suite = new StartupCheckSuite({ late: [check('container_escape', [], 'crash')], logger });
    const error = await suite.afterImage(context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupCheckFailed);
    expect(error).toMatchObject({
      check: 'container_escape',
      message: 'startup check container_escape failed: the check could not run: ECONNRESET',
    });
  });

  it('lets a stage deadline through as it is, and says which check was running', async () => {
    const controller = new AbortController();
    let seen: StartupCheckName | null = null;
    const suite: StartupCheckSuite = new StartupCheckSuite({
      early: [
        {
          name: 'docker_engine',
          proves: 'x',
          run: async (ctx) => {
            seen = suite.running;
            controller.abort(new Error('deadline'));
            throw new Error('aborted', { cause: ctx.signal.reason });
          },
        },
      ],
      logger,
    });
    const error = await suite.beforeImage(context('always_on.test', controller.signal)).catch((e: unknown) => e);
    expect(seen).toBe('docker_engine');
    expect(error).toEqual(new Error('deadline'));
    expect(suite.running).toBeNull();
  });

  it('does not fail the startup when the clean-up fails', async () => {
    const suite = new StartupCheckSuite({ cleanup: async () => Promise.reject(new Error('engine busy')), logger });
    await expect(suite.beforeImage(context())).resolves.toBeUndefined();
  });
});
