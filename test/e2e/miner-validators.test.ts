/**
 * The miner's validator side over real websockets: who may connect (metagraph permit and stake,
 * debug allow-list, trusted-miner mode), auth replay and age checks, messages before auth, bad
 * frames, the blacklist, several hotkeys with a dancing strategy, the manifest commitment, and
 * eviction. On SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidatorAuth } from '../../core/src/protocol/auth.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { receiptPageAt } from '../../core/src/miner/receipts/pages.js';
import { randomSplit } from '../../plugins/dancing/src/strategies.js';
import { NETUID, startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

describe.each(['sqlite', 'postgres'] as const)('miner validator interface (%s store)', (dialect) => {
  let env: TestMiner;
  let lowStake: Hotkey;
  let offChain: Hotkey;
  let blacklisted: Hotkey;
  const strategy = randomSplit({ seed: 'miner-e2e' });

  beforeAll(async () => {
    const keys = await Promise.all(['//Eve', '//Ferdie', '//Two'].map((uri) => loadHotkey({ uri })));
    [lowStake, offChain, blacklisted] = [keys[0]!, keys[1]!, keys[2]!];
    env = await startTestMiner({
      dialect,
      runner: 'process',
      extraHotkeys: ['//Alice//miner2'],
      dancing: strategy,
      // A cycle far longer than the test: the strategy sees cycle 0 throughout.
      miner: { debugAllowedValidators: [offChain.ss58], cycleLengthBlocks: 1_000_000 },
    });
    // Registered before any auth (the miner reads the metagraph once a minute).
    await env.chain.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: lowStake.ss58,
      coldkey: lowStake.ss58,
      stake: 500,
      validatorPermit: true,
    });
    await env.chain.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: blacklisted.ss58,
      coldkey: blacklisted.ss58,
      stake: 5000,
      validatorPermit: true,
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  const connect = (validator: Hotkey, minerHotkey = env.minerHotkey.ss58, authenticate = true) =>
    TestValidator.connect({ url: env.url, validator, minerHotkey, authenticate });

  it('accepts a validator with a permit and enough stake, and answers with its manifest', async () => {
    const client = await connect(env.validatorA);
    expect((await client.expect('V0ExecutorManifestRequest')).manifest).toBeDefined();
    await client.close();
  });

  it.each([
    ['not registered on the subnet', () => loadHotkey({ uri: '//NotRegistered' }), 'UNKNOWN_VALIDATOR'],
    ['registered without a validator permit', () => Promise.resolve(env.noPermit), 'VALIDATOR_INACTIVE'],
    ['with a permit but stake below miner.minValidatorStake', () => Promise.resolve(lowStake), 'VALIDATOR_INACTIVE'],
  ] as const)('refuses a validator %s and closes the connection', async (_name, hotkey, code) => {
    const client = await connect(await hotkey());
    const refusal = await client.expect('UnauthorizedError');
    expect(refusal.code).toBe(code);
    await client.closedByPeer();
  });

  it('accepts a hotkey on the debug allow-list without any chain check', async () => {
    const client = await connect(offChain);
    await client.expect('V0ExecutorManifestRequest');
    await client.close();
  });

  it('refuses an auth for a miner hotkey it does not serve, a bad signature, a replay and an old timestamp', async () => {
    const wrongMiner = await connect(env.validatorA, env.noPermit.ss58);
    expect((await wrongMiner.expect('GenericError')).details).toMatch(/wrong miner hotkey/);
    await wrongMiner.closedByPeer();

    const forged = await connect(env.validatorA, env.minerHotkey.ss58, false);
    const auth = createValidatorAuth(env.validatorA, env.minerHotkey.ss58);
    await forged.send({ ...auth, signature: env.validatorB.sign(`${auth.validator_hotkey}:${auth.miner_hotkey}:${auth.timestamp}`) });
    expect((await forged.expect('GenericError')).details).toMatch(/Signature mismatches/);
    await forged.closedByPeer();

    const first = await connect(env.validatorA, env.minerHotkey.ss58, false);
    await first.send(auth);
    await first.expect('V0ExecutorManifestRequest');
    const replay = await connect(env.validatorA, env.minerHotkey.ss58, false);
    await replay.send(auth);
    expect((await replay.expect('GenericError')).details).toMatch(/already used/);
    await replay.closedByPeer();
    await first.close();

    const stale = await connect(env.validatorA, env.minerHotkey.ss58, false);
    await stale.send(createValidatorAuth(env.validatorA, env.minerHotkey.ss58, Date.now() - 60_000));
    expect((await stale.expect('UnauthorizedError')).code).toBe('TOKEN_TOO_OLD');
    await stale.closedByPeer();
  });

  it('keeps messages sent before the auth and answers them after it', async () => {
    const client = await connect(env.validatorA, env.minerHotkey.ss58, false);
    await client.send({ message_type: 'V0MainHotkeyMessage' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.received).toEqual([]); // nothing before the auth
    await client.send(createValidatorAuth(env.validatorA, env.minerHotkey.ss58));
    await client.expect('V0ExecutorManifestRequest');
    await client.expect('V0MainHotkeyMessage');
    await client.close();
  });

  it('closes a connection that does not authenticate within miner.validatorAuthTimeoutSeconds', async () => {
    const quick = await startTestMiner({ dialect, runner: 'process', miner: { validatorAuthTimeoutSeconds: 0.5 } });
    try {
      const silent = await TestValidator.connect({
        url: quick.url,
        validator: quick.validatorA,
        minerHotkey: quick.minerHotkey.ss58,
        authenticate: false,
      });
      await silent.send({ message_type: 'V0MainHotkeyMessage' }); // queued until an auth that never comes
      expect((await silent.expect('GenericError', undefined, 5_000)).details).toMatch(/authenticate/);
      await silent.closedByPeer(5_000);
      // A validator that authenticates at once stays connected past the limit.
      const prompt = await TestValidator.connect({ url: quick.url, validator: quick.validatorA, minerHotkey: quick.minerHotkey.ss58 });
      await prompt.expect('V0ExecutorManifestRequest');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await prompt.send({ message_type: 'V0MainHotkeyMessage' });
      await prompt.expect('V0MainHotkeyMessage');
      await prompt.close();
    } finally {
      await quick.close();
    }
  });

  it('closes a connection that sends more than miner.validatorMaxBytesBeforeAuth before authenticating', async () => {
    const capped = await startTestMiner({ dialect, runner: 'process', miner: { validatorMaxBytesBeforeAuth: 64 * 1024 } });
    try {
      const flooder = await TestValidator.connect({
        url: capped.url,
        validator: capped.validatorA,
        minerHotkey: capped.minerHotkey.ss58,
        authenticate: false,
      });
      // Four valid messages of 20 kB: few enough for the message bound, 80 kB in all (the last one is refused).
      for (let i = 0; i < 4; i++) await flooder.send({ message_type: 'GenericError', details: 'x'.repeat(20_000) });
      expect((await flooder.expect('GenericError', undefined, 5_000)).details).toMatch(/more than 65536 bytes before authenticating/);
      await flooder.closedByPeer(5_000);
      // Below the bound, queued messages still wait for the auth and are answered after it.
      const patient = await TestValidator.connect({
        url: capped.url,
        validator: capped.validatorA,
        minerHotkey: capped.minerHotkey.ss58,
        authenticate: false,
      });
      await patient.send({ message_type: 'GenericError', details: 'y'.repeat(20_000) });
      await patient.send({ message_type: 'V0MainHotkeyMessage' });
      await patient.send(createValidatorAuth(capped.validatorA, capped.minerHotkey.ss58));
      await patient.expect('V0ExecutorManifestRequest');
      await patient.expect('V0MainHotkeyMessage');
      // Once authenticated, the bound no longer applies.
      for (let i = 0; i < 5; i++) await patient.send({ message_type: 'GenericError', details: 'z'.repeat(20_000) });
      await patient.send({ message_type: 'V0MainHotkeyMessage' });
      await patient.expect('V0MainHotkeyMessage');
      await patient.close();
    } finally {
      await capped.close();
    }
  });

  it('answers a malformed frame with GenericError and keeps the connection', async () => {
    const client = await connect(env.validatorA);
    await client.expect('V0ExecutorManifestRequest');
    await client.sendRaw('{"message_type": "V0InitialJobRequest", "job_uuid": 7}');
    expect((await client.expect('GenericError')).details).toMatch(/Malformed message/);
    await client.sendRaw('not json');
    await client.expect('GenericError');
    await client.send({ message_type: 'V0MainHotkeyMessage' });
    await client.expect('V0MainHotkeyMessage');
    await client.close();
  });

  it('declines jobs from a blacklisted validator', async () => {
    await env.store.db('miner_validator_blacklist').insert({ validator_hotkey: blacklisted.ss58, reason: 'test', created_at: Date.now() });
    const client = await connect(blacklisted);
    await client.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: 'x', executor_timing: TIMING });
    expect(await client.expect('V0DeclineJobRequest', jobUuid)).toMatchObject({ reason: 'validator_blacklisted', receipts: [] });
    await client.close();
  });

  it('splits the horde across its hotkeys with the dancing strategy and names its main hotkey', async () => {
    const [main, second] = env.hotkeys;
    const ctx = { cycle: 0, hotkeys: [main!.ss58, second!.ss58], manifest: { [TEST_CLASS]: 1 } };
    const expected = strategy.assign(ctx);
    // With this seed the strategy moves the horde to the second hotkey: not what the miner does without one.
    expect(strategy.mainHotkey(ctx)).toBe(second!.ss58);
    expect(expected[second!.ss58]).toEqual({ [TEST_CLASS]: 1 });
    for (const hotkey of [main!, second!]) {
      const client = await connect(env.validatorA, hotkey.ss58);
      expect((await client.expect('V0ExecutorManifestRequest')).manifest).toEqual(expected[hotkey.ss58]);
      await client.send({ message_type: 'V0MainHotkeyMessage' });
      expect((await client.expect('V0MainHotkeyMessage')).main_hotkey).toBe(strategy.mainHotkey(ctx));
      await client.close();
    }
  });

  it("commits each hotkey's manifest on chain, and only when it changed", async () => {
    const [main, second] = env.hotkeys;
    const expected = strategy.assign({ cycle: 0, hotkeys: [main!.ss58, second!.ss58], manifest: { [TEST_CLASS]: 1 } });
    const encode = (m: Record<string, number>) =>
      `<M:${Object.entries(m)
        .map(([, n]) => `T${n}`)
        .join(';')}>`;
    const first = await env.miner.publishManifests();
    expect(first.map((r) => [r.hotkey, r.commitment, r.written])).toEqual([
      [main!.ss58, encode(expected[main!.ss58]!), true],
      [second!.ss58, encode(expected[second!.ss58]!), true],
    ]);
    expect(await env.chain.commitment(NETUID, main!.ss58)).toBe(encode(expected[main!.ss58]!));
    expect(await env.chain.commitment(NETUID, second!.ss58)).toBe(encode(expected[second!.ss58]!));
    const again = await env.miner.publishManifests();
    expect(again.every((r) => !r.written)).toBe(true);
  });

  it("stores a declined job's started receipt, serves it, and evicts it after the retention", async () => {
    const short = await startTestMiner({ dialect, runner: 'process', miner: { retentionSeconds: 1 } });
    try {
      const client = await TestValidator.connect({ url: short.url, validator: short.validatorA, minerHotkey: short.minerHotkey.ss58 });
      await client.expect('V0ExecutorManifestRequest');
      // A class this miner does not have: declined busy, but the started receipt is kept (it is what excuses the miner).
      const { jobUuid } = await client.initialJobRequest({
        executor_class: 'always_on.gpu-24gb',
        docker_image: 'x',
        executor_timing: TIMING,
      });
      expect((await client.expect('V0DeclineJobRequest', jobUuid)).reason).toBe('busy');
      await client.close();
      const page = `${short.url}/receipts/${receiptPageAt(Date.now())}.jsonl`;
      expect(await (await fetch(page)).text()).toContain(jobUuid);
      expect(await short.store.db('miner_receipts').where({ job_uuid: jobUuid }).first()).toBeDefined();

      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await short.miner.evict();
      expect(await short.store.db('miner_receipts').where({ job_uuid: jobUuid }).first()).toBeUndefined();
      expect(await short.store.db('miner_jobs').where({ job_uuid: jobUuid }).first()).toBeUndefined();
      // The page goes once the whole 5-minute page is older than the retention.
    } finally {
      await short.close();
    }
  });

  it('in local mode serves only its one validator, off chain, and keeps no receipts', async () => {
    const local = await startTestMiner({ dialect, runner: 'process', miner: { localMode: { validatorHotkey: offChain.ss58 } } });
    try {
      // A trusted miner is addressed with a placeholder miner hotkey.
      const placeholder = '0'.repeat(48);
      const trusted = await TestValidator.connect({ url: local.url, validator: offChain, minerHotkey: placeholder });
      await trusted.expect('V0ExecutorManifestRequest');
      const { jobUuid } = await trusted.initialJobRequest({
        executor_class: 'always_on.gpu-24gb',
        docker_image: 'x',
        executor_timing: TIMING,
      });
      await trusted.expect('V0DeclineJobRequest', jobUuid);
      expect(await local.store.db('miner_receipts').count({ n: '*' }).first()).toMatchObject({ n: expect.anything() });
      expect(Number(((await local.store.db('miner_receipts').count({ n: '*' }).first()) as { n: unknown }).n)).toBe(0);
      await trusted.close();

      const other = await TestValidator.connect({ url: local.url, validator: local.validatorA, minerHotkey: placeholder });
      expect((await other.expect('UnauthorizedError')).code).toBe('UNKNOWN_VALIDATOR');
      await other.closedByPeer();
    } finally {
      await local.close();
    }
  });

  it("takes a job's finished receipt only from its own validator, with a valid signature", async () => {
    const owner = await connect(env.validatorA);
    await owner.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await owner.initialJobRequest({ executor_class: 'always_on.gpu-24gb', docker_image: 'x', executor_timing: TIMING });
    await owner.expect('V0DeclineJobRequest', jobUuid);
    const row = () =>
      env.store.db('miner_jobs').where({ job_uuid: jobUuid }).first('time_took_us', 'score_str') as Promise<{
        time_took_us: unknown;
        score_str: unknown;
      }>;
    const finishedReceipts = async () =>
      Number(
        (
          (await env.store
            .db('miner_receipts')
            .where({ job_uuid: jobUuid, receipt_type: 'JobFinishedReceipt' })
            .count({ n: '*' })
            .first()) as { n: unknown }
        ).n,
      );
    // Messages of one connection are handled in order: an answered V0MainHotkeyMessage means the receipt before it was handled.
    const handled = async (client: TestValidator) => {
      await client.send({ message_type: 'V0MainHotkeyMessage' });
      await client.expect('V0MainHotkeyMessage');
    };

    // Another validator (with a permit) claims the job: neither its receipt nor its score is kept.
    const other = await connect(env.validatorB);
    await other.expect('V0ExecutorManifestRequest');
    await other.finishedReceipt(jobUuid, '2025-01-02T03:04:05Z', 5_000_000, 0);
    await handled(other);
    await other.close();
    expect(await finishedReceipts()).toBe(0);
    expect(await row()).toMatchObject({ time_took_us: null, score_str: null });

    // The owner's receipt with a signature that does not verify changes nothing either.
    const forged = (await import('../../core/src/protocol/receipts.js')).createJobFinishedReceipt(
      { jobUuid, minerHotkey: env.minerHotkey.ss58, timeStarted: '2025-01-02T03:04:05Z', timeTookUs: 7_000_000, score: 9 },
      env.validatorA,
    );
    await owner.send({
      message_type: 'V0JobFinishedReceiptRequest',
      payload: forged.payload,
      signature: env.validatorB.sign('something else'),
    });
    await handled(owner);
    expect(await row()).toMatchObject({ time_took_us: null, score_str: null });

    // The owner's real receipt is stored and sets the job's time and score.
    await owner.finishedReceipt(jobUuid, '2025-01-02T03:04:05Z', 3_000_000, 1.5);
    await handled(owner);
    expect(await finishedReceipts()).toBe(1);
    const stored = await row();
    expect([Number(stored.time_took_us), stored.score_str]).toEqual([3_000_000, '1.500000']);
    await owner.close();
  });

  it('refuses a second initial request for the same job uuid', async () => {
    const client = await connect(env.validatorA);
    await client.expect('V0ExecutorManifestRequest');
    const jobUuid = randomUUID();
    await client.initialJobRequest({ job_uuid: jobUuid, executor_class: 'always_on.gpu-24gb', docker_image: 'x', executor_timing: TIMING });
    await client.expect('V0DeclineJobRequest', jobUuid);
    await client.initialJobRequest({ job_uuid: jobUuid, executor_class: 'always_on.gpu-24gb', docker_image: 'x', executor_timing: TIMING });
    expect((await client.expect('GenericError')).details).toMatch(/already requested/);
    await client.close();
  });
});
