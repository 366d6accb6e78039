// A job generator for tests and benchmarks that run `horde validator` processes against
// SimulatedMiners (core/src/testkit): each job carries a fresh secret the executor must print
// back (a SimulatedMiner's default execution echoes the command's arguments), and the verifier
// checks it. So a miner that answers instantly, or late, or not at all is judged as a real one.
// Loaded by path from a config's `plugins` (it imports the built @horde/core: build first).
import { randomBytes } from 'node:crypto';
import { definePlugin, JOB_GENERATOR } from '@horde/core';

const timing = {
  allowedLeewaySeconds: 5,
  downloadTimeLimitSeconds: 10,
  executionTimeLimitSeconds: 10,
  uploadTimeLimitSeconds: 10,
  streamingStartTimeLimitSeconds: 0,
};

export const echoGenerator = {
  name: 'echo',
  supports: (hardwareClass) => hardwareClass.resources?.gpu === undefined,
  async generate(request) {
    const secret = randomBytes(8).toString('hex');
    return {
      description: 'echo',
      spec: {
        executorClass: request.executorClass.id,
        image: 'echo',
        command: ['--key', secret],
        env: {},
        dockerRunOptionsPreset: 'none',
        timing,
      },
      verify: async (result) => ({
        correct: result.stdout.trim() === secret,
        inTime: true,
        details: result.stdout.trim() === secret ? 'echoed' : 'wrong echo',
      }),
    };
  },
};

export default definePlugin({
  name: 'horde-test-echo-generator',
  version: '1.0.0',
  apiRange: '^1.0.0',
  description: 'tests only: echo jobs that SimulatedMiners answer',
  provides: [JOB_GENERATOR],
  register(ctx) {
    ctx.provide(JOB_GENERATOR, { useValue: echoGenerator });
  },
});
