import { describe, expect, it } from 'vitest';
import { loadConfig } from '../index.js';
import { executorSection } from './executor.js';

describe('executor.startupChecks', () => {
  it('defaults to every check, the probe in the job image', () => {
    const settings = executorSection.parse({});
    expect(settings.startupChecks).toEqual(['docker_engine', 'container_escape', 'nvidia_toolkit']);
    expect(settings.startupCheckImage).toBeUndefined();
  });

  it('takes a list, false, or their text forms (as environment variables bring them)', () => {
    expect(executorSection.parse({ startupChecks: ['docker_engine'] }).startupChecks).toEqual(['docker_engine']);
    expect(executorSection.parse({ startupChecks: false }).startupChecks).toBe(false);
    expect(executorSection.parse({ startupChecks: 'false' }).startupChecks).toBe(false);
    expect(executorSection.parse({ startupChecks: 'docker_engine, container_escape' }).startupChecks).toEqual([
      'docker_engine',
      'container_escape',
    ]);
    expect(executorSection.parse({ startupChecks: '["nvidia_toolkit"]' }).startupChecks).toEqual(['nvidia_toolkit']);
  });

  it('rejects a check name it does not know', () => {
    expect(() => executorSection.parse({ startupChecks: ['cve_check'] })).toThrow(/docker_engine|container_escape/);
    expect(() => executorSection.parse({ startupChecks: true })).toThrow();
  });

  it("is read from HORDE_EXECUTOR__STARTUP_CHECKS and from the miner's HORDE_EXECUTOR JSON", async () => {
    const cwd = '/nonexistent-horde-config-dir';
    const fromVariable = await loadConfig({
      cwd,
      env: { HORDE_EXECUTOR__STARTUP_CHECKS: 'false', HORDE_EXECUTOR__STARTUP_CHECK_IMAGE: 'debian:bookworm-slim' },
    });
    expect(fromVariable.executor).toMatchObject({ startupChecks: false, startupCheckImage: 'debian:bookworm-slim' });
    const fromMiner = await loadConfig({ cwd, env: { HORDE_EXECUTOR: JSON.stringify({ startupChecks: ['container_escape'] }) } });
    expect(fromMiner.executor.startupChecks).toEqual(['container_escape']);
  });
});
