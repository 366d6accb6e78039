import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE } from './generator.js';
import { isGpuClassId, refuseStandInOutsideDevnet, StandInSolverError } from './stand-in-guard.js';

const deployment = { role: 'validator', network: 'finney', image: DEFAULT_IMAGE, executorClasses: ['always_on.llm.a6000'] };

describe('stand-in prompt solver outside the devnet', () => {
  it('refuses stand-in answers for a GPU class on a real chain, saying how to fix it', () => {
    let caught: unknown;
    try {
      refuseStandInOutsideDevnet(deployment);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StandInSolverError);
    expect((caught as StandInSolverError).code).toBe('HORDE_LLM_STAND_IN_OUTSIDE_DEVNET');
    expect((caught as Error).message).toContain('would accept its answers as proof of always_on.llm.a6000');
    expect((caught as Error).message).toContain('Dockerfile.vllm');
    // A config that does not say `role: validator` (horde validator sets it) is refused as well.
    expect(() => refuseStandInOutsideDevnet({ ...deployment, role: 'miner', network: 'wss://example.org:443' })).toThrow(
      StandInSolverError,
    );
  });

  it('allows the stand-in on the local chain and in the devnet, a real solver anywhere, and the stand-in for CPU classes', () => {
    expect(() => refuseStandInOutsideDevnet({ ...deployment, network: 'local' })).not.toThrow();
    expect(() => refuseStandInOutsideDevnet({ ...deployment, role: 'devnet', network: 'test' })).not.toThrow();
    expect(() => refuseStandInOutsideDevnet({ ...deployment, image: 'horde/job-llm-prompts:1-vllm' })).not.toThrow();
    expect(() => refuseStandInOutsideDevnet({ ...deployment, executorClasses: ['always_on.test', 'always_on.cpu.8c.16gb'] })).not.toThrow();
  });

  it('takes every class but the test class and CPU classes for a GPU class', () => {
    expect(['always_on.llm.a6000', 'always_on.gpu.h100-80gb', 'spin_up-4min.gpu-24gb', 'my.own.class'].every(isGpuClassId)).toBe(true);
    expect(['always_on.test', 'always_on.cpu.8c.16gb', 'cpu'].some(isGpuClassId)).toBe(false);
  });
});
