/**
 * The miner's delivery of job messages to a validator when a send fails on a connection that still
 * reports itself open (a socket write can fail before its close is seen). The hub must not retry
 * that connection in a loop: the message stays queued, one log line says so, and the validator's
 * next connection gets it. Real store (SQLite), real executor pool and local executor manager;
 * the validator connection is a `ValidatorPeer` whose writes fail, which a real socket does only
 * by chance.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ValidatorPeer } from '../../core/src/miner/jobs/active-job.js';
import type { MinerToValidatorMessage } from '../../core/src/protocol/index.js';
import { hubHarness, type HubHarness } from './hub-harness.js';

/** A validator connection: open as far as it knows, its writes failing while `failing` is set. */
class Peer implements ValidatorPeer {
  readonly sent: MinerToValidatorMessage[] = [];
  attempts = 0;
  constructor(
    readonly validatorHotkey: string,
    readonly id: number,
    public failing: boolean,
  ) {}
  isReady(): boolean {
    return true;
  }
  send(message: MinerToValidatorMessage): Promise<boolean> {
    this.attempts += 1;
    // As `ws` reports a write: in a later turn of the event loop.
    return new Promise((resolve) =>
      setImmediate(() => {
        if (!this.failing) this.sent.push(message);
        resolve(!this.failing);
      }),
    );
  }
}

let harness: HubHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('JobHub delivery', () => {
  it('stops after a failed send on a connection that still says it is open, keeps the message and logs once', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
          done();
        },
      }),
    );
    harness = await hubHarness({ logger, peer: false });
    const { hub } = harness;
    const broken = new Peer(harness.validatorHotkey, 1, true);
    hub.peerOpened(broken);
    hub.attach(broken);
    const jobUuid = randomUUID();
    await hub.initialJobRequest(broken, harness.minerHotkey, harness.initialRequest(jobUuid));

    // The accept could not be written. One try, not a loop on the same connection.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(broken.attempts).toBe(1);
    const warnings = lines.filter((line) => line.msg === 'could not send to the validator; messages kept for its reconnect');
    expect(warnings).toHaveLength(1);
    expect(
      hub
        .activeJobs()
        .find((job) => job.jobUuid === jobUuid)
        ?.outbox.map((m) => m.message_type),
    ).toEqual(['V0AcceptJobRequest']);

    // The validator connects again: the kept message reaches it.
    const again = new Peer(harness.validatorHotkey, 2, false);
    hub.peerOpened(again);
    hub.attach(again);
    await expect.poll(() => again.sent.map((m) => m.message_type), { timeout: 2000 }).toEqual(['V0AcceptJobRequest']);
    expect(broken.attempts).toBe(1);
  });
});
