import { fileURLToPath } from 'node:url';
import { beforeEach, expect, it, vi } from 'vitest';

// What bin/agent-build.js says of the build (its own rule is tested in cli/agent-build.test.ts).
const build = vi.hoisted(() => ({ snapshot: undefined as string | undefined, asked: 0 }));
vi.mock('../../bin/agent-build.js', () => ({
  agentSnapshot: () => {
    build.asked++;
    return build.snapshot;
  },
}));

const { defaultExecutorCommand, EXECUTOR_COMMAND_RECHECK_MS } = await import('./executor-launch.js');
const bundleCommand = [process.execPath, fileURLToPath(new URL('../../bin/horde.js', import.meta.url))];

beforeEach(() => {
  build.snapshot = undefined;
  build.asked = 0;
});

it('asks the build again once its answer is a second old, and follows what changed in between', () => {
  let now = 1_000_000;
  expect(defaultExecutorCommand(now)).toEqual(bundleCommand);
  expect(build.asked).toBe(1);
  // A snapshot made meanwhile: launches within the second keep the last answer, without asking.
  build.snapshot = '/srv/horde/core/dist/agent-bundle/agent.blob';
  now += EXECUTOR_COMMAND_RECHECK_MS - 1;
  expect(defaultExecutorCommand(now)).toEqual(bundleCommand);
  expect(build.asked).toBe(1);
  now += 1;
  expect(defaultExecutorCommand(now)).toEqual([process.execPath, '--snapshot-blob', build.snapshot]);
  expect(build.asked).toBe(2);
  // And back (the snapshot deleted, or gone stale).
  build.snapshot = undefined;
  now += EXECUTOR_COMMAND_RECHECK_MS;
  expect(defaultExecutorCommand(now)).toEqual(bundleCommand);
  expect(build.asked).toBe(3);
});

it('hands out a copy (a caller that appends its arguments changes nobody else’s), and asks again if the clock went back', () => {
  const now = 5_000_000;
  const first = defaultExecutorCommand(now);
  first.push('executor');
  expect(defaultExecutorCommand(now)).toEqual(bundleCommand);
  const asked = build.asked;
  expect(defaultExecutorCommand(now - 10)).toEqual(bundleCommand);
  expect(build.asked).toBe(asked + 1);
});
