/**
 * A request that finds no executor for it waits at the miner (`capacityWaitMs`) instead of being
 * declined at once, and an executor freed meanwhile goes to the waiting request the capacity
 * policy picks: the validator furthest below its stake share, not whoever asked first. Without
 * the wait, the validator whose re-request reaches the miner first takes a freed executor, and the
 * stake split follows the store's latency (measured in test/e2e/miner-capacity-share.test.ts).
 * Real store (SQLite), real executor pool, local executor manager with real (idle) processes.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hotkey } from '../../core/src/keys/index.js';
import type { MinerToValidatorMessage } from '../../core/src/protocol/index.js';
import { testHotkey } from '../../core/src/testkit/index.js';
import { CLASS, hubHarness, Peer, type HubHarness } from './hub-harness.js';

let harness: HubHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Two executors, validators' connections opened by each test. */
async function setup(capacityWaitMs: number, stakes: Record<string, number>, { keepReceipts = false } = {}) {
  harness = await hubHarness({ executors: 2, capacityWaitMs, stakes, keepReceipts, peer: false });
  const { hub, pool, store, metrics, minerHotkey } = harness;
  const opened = harness;
  /**
   * Sends an initial job request from `peer`. `handled`: the hub is done with the frame (answered,
   * or parked waiting: the connection's next frames are not held behind a wait).
   */
  const ask = (peer: Peer, validator: Hotkey): { jobUuid: string; handled: Promise<void> } => {
    const jobUuid = randomUUID();
    // Organic when receipts are kept: only organic started receipts excuse a busy decline.
    const handled = hub.initialJobRequest(peer, minerHotkey, opened.initialRequest(jobUuid, { validator, isOrganic: keepReceipts }));
    return { jobUuid, handled };
  };
  const jobOf = (jobUuid: string) => hub.activeJobs().find((job) => job.jobUuid === jobUuid)!;
  const tokenOf = (jobUuid: string) => jobOf(jobUuid).token;
  /** A validator's connection, opened and attached as an authenticated one is. */
  const connect = (validator: Hotkey, id: number): Peer => {
    const peer = new Peer(validator.ss58, id);
    hub.peerOpened(peer);
    hub.attach(peer);
    return peer;
  };
  /** Asks from `peer` and waits for the answer, which must be an accept (an executor is free for it). */
  const askAccepted = async (peer: Peer, validator: Hotkey): Promise<{ jobUuid: string }> => {
    const asked = ask(peer, validator);
    await asked.handled;
    expect(peer.answer(asked.jobUuid)).toBe('V0AcceptJobRequest');
    return asked;
  };
  return { hub, pool, store, metrics, ask, askAccepted, jobOf, tokenOf, connect };
}

describe('JobHub: requests wait for a freed executor', () => {
  it('hands a freed executor to the waiting validator below its share, not to the one that asked first', async () => {
    const [rich, poor] = await Promise.all([testHotkey('//WaitRich'), testHotkey('//WaitPoor')]);
    const { hub, pool, ask, tokenOf, connect } = await setup(5_000, { [rich.ss58]: 30_000, [poor.ss58]: 10_000 });
    const richPeer = connect(rich, 1);
    const poorPeer = connect(poor, 2);
    // The poor validator alone: idle capacity is lent out, it takes both executors.
    const [p1, p2] = [ask(poorPeer, poor), ask(poorPeer, poor)];
    await Promise.all([p1.handled, p2.handled]);
    expect([poorPeer.answer(p1.jobUuid), poorPeer.answer(p2.jobUuid)]).toEqual(['V0AcceptJobRequest', 'V0AcceptJobRequest']);

    // Both ask for more: the poor validator first, then the rich one. Nothing is free; both wait,
    // and neither connection is held up meanwhile (the hub is done with both frames).
    const p3AskedAt = Date.now();
    const p3 = ask(poorPeer, poor);
    await p3.handled;
    const r1 = ask(richPeer, rich);
    await r1.handled;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(poorPeer.answer(p3.jobUuid)).toBeUndefined();
    expect(richPeer.answer(r1.jobUuid)).toBeUndefined();

    // One of the poor validator's executors frees up: it goes to the rich validator (share 1.5 of
    // 2, holding none), although the poor validator's request is older.
    await pool.kill(tokenOf(p1.jobUuid));
    await expect.poll(() => richPeer.answer(r1.jobUuid), { timeout: 3_000 }).toBe('V0AcceptJobRequest');
    expect(poorPeer.answer(p3.jobUuid)).toBeUndefined();

    // The poor validator's request is declined busy once its wait is over.
    await expect.poll(() => poorPeer.answer(p3.jobUuid), { timeout: 8_000 }).toBe('V0DeclineJobRequest');
    expect(Date.now() - p3AskedAt).toBeGreaterThanOrEqual(5_000);
  }, 30_000);

  it('decides again when an executor frees while a request that found the class full is being reserved', async () => {
    // Stakes 3:1 over two executors: shares 1.5 and 0.5. Each validator holds one; the rich one
    // waits for a second. The poor one asks again: the class is full, so the policy lets it
    // through to the pool, which declines it... unless an executor frees while the pool reads the
    // manifest. Taken then, the poor validator held 2 of 2 while the rich one, below its share,
    // waited (under load the 3:1 split drifted to 2.66): the policy must see the freed executor.
    const [rich, poor] = await Promise.all([testHotkey('//RaceRich'), testHotkey('//RacePoor')]);
    const { pool, ask, askAccepted, tokenOf, connect } = await setup(5_000, { [rich.ss58]: 30_000, [poor.ss58]: 10_000 });
    const richPeer = connect(rich, 1);
    const poorPeer = connect(poor, 2);
    const r1 = await askAccepted(richPeer, rich);
    await askAccepted(poorPeer, poor);
    const r2 = ask(richPeer, rich);
    await r2.handled;
    expect(richPeer.answer(r2.jobUuid)).toBeUndefined(); // waiting

    // The next manifest read is slow, and the rich validator's executor exits during it.
    const { manager } = harness!;
    const manifest = manager.manifest.bind(manager);
    let reading!: () => void;
    const readStarted = new Promise<void>((resolve) => (reading = resolve));
    let finishRead!: () => void;
    const readDone = new Promise<void>((resolve) => (finishRead = resolve));
    manager.manifest = async () => {
      manager.manifest = manifest;
      reading();
      await readDone;
      return manifest();
    };
    const p2 = ask(poorPeer, poor);
    await readStarted;
    await pool.kill(tokenOf(r1.jobUuid));
    // (An executor still starting is killed once it started: its slot frees then.)
    await expect.poll(() => pool.holders(CLASS).get(rich.ss58) ?? 0, { timeout: 5_000 }).toBe(0);
    finishRead();
    await p2.handled;

    // The freed executor goes to the rich validator's waiting request; the poor one waits on.
    await expect.poll(() => richPeer.answer(r2.jobUuid), { timeout: 3_000 }).toBe('V0AcceptJobRequest');
    expect(poorPeer.answer(p2.jobUuid)).toBeUndefined();
    expect(pool.holders(CLASS)).toEqual(
      new Map([
        [rich.ss58, 1],
        [poor.ss58, 1],
      ]),
    );
  }, 30_000);

  it('counts an ended job as holding its executor until its slot is released', async () => {
    // Equal stakes: one executor each. The poor validator's job ends, and recording its end is
    // slow (a loaded store); meanwhile the other validator's executor frees up. Counted as free
    // for its validator during that write, the ended job let the poor validator take that
    // executor too, though it was the oldest request only, not the one below its share.
    const [first, second] = await Promise.all([testHotkey('//WaitFirst'), testHotkey('//WaitSecond')]);
    const { hub, pool, store, ask, askAccepted, jobOf, tokenOf, connect } = await setup(5_000, {
      [first.ss58]: 10_000,
      [second.ss58]: 10_000,
    });
    const firstPeer = connect(first, 1);
    const secondPeer = connect(second, 2);
    const f0 = await askAccepted(firstPeer, first);
    const s1 = await askAccepted(secondPeer, second);

    let endWritten!: () => void;
    const slowEnd = new Promise<void>((resolve) => (endWritten = resolve));
    const setStatus = store.jobs.setStatus.bind(store.jobs);
    store.jobs.setStatus = async (jobUuid, status, ...rest) => {
      if (jobUuid === s1.jobUuid && status === 'finished') await slowEnd;
      return setStatus(jobUuid, status, ...rest);
    };
    // s1's executor reports its result; the hub is still recording the end.
    const ending = hub.executorMessage(
      jobOf(s1.jobUuid),
      { message_type: 'V0JobFinishedRequest', job_uuid: s1.jobUuid, docker_process_stdout: '', docker_process_stderr: '' },
      '127.0.0.1',
    );
    // Both ask for one more, the second validator first.
    const s2 = ask(secondPeer, second);
    await s2.handled;
    const f1 = ask(firstPeer, first);
    await f1.handled;

    // The first validator's executor frees up: it goes back to the first validator (holding none
    // now), not to the second, which still holds the executor its ended job has not released.
    await pool.kill(tokenOf(f0.jobUuid));
    await expect.poll(() => firstPeer.answer(f1.jobUuid), { timeout: 3_000 }).toBe('V0AcceptJobRequest');
    expect(secondPeer.answer(s2.jobUuid)).toBeUndefined();

    // Once its end is recorded and the slot released, the second validator's request takes it.
    endWritten();
    await ending;
    await expect.poll(() => secondPeer.answer(s2.jobUuid), { timeout: 3_000 }).toBe('V0AcceptJobRequest');
  }, 30_000);

  it('caps the waiting requests of one validator at its class capacity: a flood is declined at once', async () => {
    // An authenticated validator floods requests while every executor is taken. Without a cap each
    // one waits out capacityWaitMs and every freed executor walks them all; with it, at most as
    // many wait as the class has executors, the rest are declined busy at once and counted.
    const [flooder, other] = await Promise.all([testHotkey('//WaitFlooder'), testHotkey('//WaitOther')]);
    const { hub, pool, metrics, ask, tokenOf, connect } = await setup(20_000, { [flooder.ss58]: 10_000, [other.ss58]: 10_000 });
    const flooderPeer = connect(flooder, 1);
    const otherPeer = connect(other, 2);
    const held = [ask(flooderPeer, flooder), ask(flooderPeer, flooder)];
    await Promise.all(held.map((h) => h.handled));
    expect(held.map((h) => flooderPeer.answer(h.jobUuid))).toEqual(['V0AcceptJobRequest', 'V0AcceptJobRequest']);

    const flood = Array.from({ length: 40 }, () => ask(flooderPeer, flooder));
    await Promise.all(flood.map((f) => f.handled));
    // The first two (the class's capacity) wait; the other 38 are answered now, long before the 20 s wait.
    await expect
      .poll(() => flood.filter((f) => flooderPeer.answer(f.jobUuid) === 'V0DeclineJobRequest').length, { timeout: 3_000 })
      .toBe(38);
    expect(flood.slice(0, 2).map((f) => flooderPeer.answer(f.jobUuid))).toEqual([undefined, undefined]);
    const declined = flooderPeer.sent.find((m) => m.message_type === 'V0DeclineJobRequest');
    expect(declined).toMatchObject({ reason: 'busy' });
    const overflow = await metrics.capacityWaitOverflow.get();
    expect(overflow.values.find((v) => v.labels.executor_class === CLASS)?.value).toBe(38);

    // Another validator's request still waits (the cap is per validator), and takes the freed executor.
    const o1 = ask(otherPeer, other);
    await o1.handled;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(otherPeer.answer(o1.jobUuid)).toBeUndefined();
    await pool.kill(tokenOf(held[0]!.jobUuid));
    await expect.poll(() => otherPeer.answer(o1.jobUuid), { timeout: 3_000 }).toBe('V0AcceptJobRequest');
    // One of the flooder's two waiting requests takes the next one.
    await pool.kill(tokenOf(held[1]!.jobUuid));
    await expect
      .poll(() => flood.slice(0, 2).filter((f) => flooderPeer.answer(f.jobUuid) === 'V0AcceptJobRequest').length, { timeout: 3_000 })
      .toBe(1);
  }, 30_000);

  it('admits requests in the order they arrived, so a busy decline always has older receipts to excuse it', async () => {
    // The first request's receipt takes long to store (PostgreSQL's pool answers out of order).
    // Admitted after its writes, it was overtaken by two requests signed after it, which took
    // both executors; declined busy, its excuses were receipts younger than its own, which a
    // validator refuses (ComputeHorde: excuse timestamp < the declined job's), so it sent none.
    const validator = await testHotkey('//WaitInOrder');
    const { hub, store, ask } = await setup(0, {}, { keepReceipts: true });
    const peer = new Peer(validator.ss58, 1);
    hub.peerOpened(peer);
    hub.attach(peer);
    let stored!: () => void;
    const slowInsert = new Promise<void>((resolve) => (stored = resolve));
    const insert = store.receipts.insert.bind(store.receipts);
    let slowJob = '';
    store.receipts.insert = async (receipt, db) => {
      if (receipt.payload.job_uuid === slowJob) await slowInsert;
      return insert(receipt, db);
    };
    const first = ask(peer, validator);
    slowJob = first.jobUuid;
    const later = [];
    for (let i = 0; i < 2; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5)); // signed later, by the receipt clock too
      later.push(ask(peer, validator));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    stored();
    await Promise.all([first.handled, ...later.map((l) => l.handled)]);

    expect([first, ...later].map((r) => peer.answer(r.jobUuid))).toEqual([
      'V0AcceptJobRequest',
      'V0AcceptJobRequest',
      'V0DeclineJobRequest',
    ]);
    const decline = peer.sent.find((m) => m.message_type === 'V0DeclineJobRequest');
    if (decline?.message_type !== 'V0DeclineJobRequest') throw new Error('no decline');
    // Its excuses: the two jobs holding the executors, both signed before it.
    const excused = decline.receipts.filter((r) => r.payload.receipt_type === 'JobStartedReceipt').map((r) => r.payload.job_uuid);
    expect(excused.sort()).toEqual([first.jobUuid, later[0]!.jobUuid].sort());
  }, 30_000);

  it("does not hold other validators' requests behind an answer a validator does not read", async () => {
    // A blacklisted validator that stops reading its socket: the decline to it never finishes
    // sending. Requests that arrived after it still get their answer.
    const [stuck, other] = await Promise.all([testHotkey('//WaitStuck'), testHotkey('//WaitUnstuck')]);
    const { hub, store, ask } = await setup(1_000, {});
    await store.validators.blacklist(stuck.ss58, 'test');
    class StuckPeer extends Peer {
      override send(message: MinerToValidatorMessage): Promise<boolean> {
        this.sent.push(message);
        return new Promise<boolean>(() => {}); // the socket never drains
      }
    }
    const stuckPeer = new StuckPeer(stuck.ss58, 1);
    const otherPeer = new Peer(other.ss58, 2);
    for (const peer of [stuckPeer, otherPeer]) {
      hub.peerOpened(peer);
      hub.attach(peer);
    }
    const blocked = ask(stuckPeer, stuck);
    const next = ask(otherPeer, other);
    await expect.poll(() => otherPeer.answer(next.jobUuid), { timeout: 5_000 }).toBe('V0AcceptJobRequest');
    expect(stuckPeer.answer(blocked.jobUuid)).toBe('V0DeclineJobRequest');
  }, 30_000);

  it('declines at once with capacityWaitMs 0, as before', async () => {
    const validator = await testHotkey('//WaitAlone');
    const { hub, ask } = await setup(0, {});
    const peer = new Peer(validator.ss58, 1);
    hub.peerOpened(peer);
    hub.attach(peer);
    const taken = [ask(peer, validator), ask(peer, validator)];
    await Promise.all(taken.map((t) => t.handled));
    const startedAt = Date.now();
    const third = ask(peer, validator);
    await third.handled;
    expect(peer.answer(third.jobUuid)).toBe('V0DeclineJobRequest');
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  }, 30_000);
});
