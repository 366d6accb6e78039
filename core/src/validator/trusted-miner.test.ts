import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpec } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import { SystemClock } from '../time/clock.js';
import { SimulatedMiner, testHotkey } from '../testkit/index.js';
import { crossCheckOrganicJob, shouldCrossCheck, TrustedMinerClient } from './trusted-miner.js';

const spec: JobSpec = {
  executorClass: 'always_on.test',
  image: 'echo',
  command: ['--key', 'forty-two'],
  env: {},
  dockerRunOptionsPreset: 'none',
  timing: {
    allowedLeewaySeconds: 1,
    downloadTimeLimitSeconds: 1,
    executionTimeLimitSeconds: 2,
    uploadTimeLimitSeconds: 1,
    streamingStartTimeLimitSeconds: 0,
  },
};

let validator: Hotkey;
let trusted: SimulatedMiner;
let client: TrustedMinerClient;

beforeAll(async () => {
  validator = await testHotkey('//TrustingValidator');
  trusted = await SimulatedMiner.start({ hotkey: await testHotkey('//TrustedMiner'), manifest: { 'always_on.test': 1 } });
  client = new TrustedMinerClient({
    target: { hotkey: trusted.hotkey, coldkey: null, uid: null, host: '127.0.0.1', port: trusted.port },
    validator,
    clock: new SystemClock(),
    logger: pino({ level: 'silent' }),
    hardwareClasses: [],
    limits: { reservationMs: 2000, startupMs: 2000, slackMs: 1000 },
  });
});
afterAll(async () => {
  await trusted.close();
});

describe('trusted miner', () => {
  it('runs a job on the trusted miner over the protocol and returns its result', async () => {
    const result = await client.run(spec);
    expect(result.stdout).toBe('forty-two\n');
    expect(trusted.jobs.map((job) => job.docker_run_cmd)).toContainEqual(['--key', 'forty-two']);
  });

  it('cross-checks an organic result: agreement passes, a different answer is caught', async () => {
    const honest = { stdout: 'forty-two\n', stderr: '', artifacts: {}, uploadResults: {}, timeTookMs: 5 };
    expect(await crossCheckOrganicJob(spec, honest, client)).toBe(true);
    expect(await crossCheckOrganicJob(spec, { ...honest, stdout: 'forty-three\n' }, client)).toBe(false);
  });

  it('fails clearly when the trusted miner cannot be reached', async () => {
    const unreachable = new TrustedMinerClient({
      target: { hotkey: trusted.hotkey, coldkey: null, uid: null, host: '127.0.0.1', port: 1 },
      validator,
      clock: new SystemClock(),
      logger: pino({ level: 'silent' }),
      hardwareClasses: [],
      limits: { reservationMs: 500, startupMs: 500, slackMs: 500 },
    });
    await expect(unreachable.run(spec)).rejects.toMatchObject({ code: 'HORDE_TRUSTED_MINER_FAILED' });
  });

  it('samples a stable share of organic jobs for cross-checking', () => {
    const uuids = Array.from({ length: 4000 }, (_, i) => `job-${i}`);
    const sampled = uuids.filter((uuid) => shouldCrossCheck(uuid, 0.05)).length;
    expect(sampled).toBeGreaterThan(140); // 5 % of 4000 = 200, give or take
    expect(sampled).toBeLessThan(260);
    expect(uuids.filter((uuid) => shouldCrossCheck(uuid, 0.05))).toEqual(uuids.filter((uuid) => shouldCrossCheck(uuid, 0.05)));
    expect(shouldCrossCheck('any', 0)).toBe(false);
    expect(shouldCrossCheck('any', 1)).toBe(true);
  });
});
