/**
 * Remote memory exhaustion before auth (#11 hole 1), against a real `horde miner` process: forty
 * unauthenticated connections from four addresses each start a 45 MiB frame. The miner must cut
 * each one off within its configured budget (per connection, per address, in total, and a cap on
 * connections per address), say why, keep its resident memory within that budget, give everything
 * back when they go, and go on serving a real validator. Before auth it parses nothing but the auth
 * message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { TestValidator } from '../support/test-validator.js';
import { CliMiner } from './cli-miner.js';
import { floodOneFrame, openRawValidatorSocket, type FloodResult } from './ws-flood.js';

const MiB = 1024 * 1024;
const BUDGET = { perConnection: 2 * MiB, perAddress: 12 * MiB, total: 24 * MiB, connectionsPerAddress: 8 };
/** What a Node process may add beside the budget while it handles 40 sockets (buffers awaiting GC, TLS-free sockets). */
const SLACK = 64 * MiB;
const FRAME = 45 * MiB;

interface Health {
  unauthenticated: { connections: number; bytes: number };
}

describe('pre-auth budget of a running miner', () => {
  let miner: CliMiner;
  let validator: Hotkey;
  let minerHotkey: Hotkey;

  beforeAll(async () => {
    [validator, minerHotkey] = await Promise.all([loadHotkey({ uri: '//Bob' }), loadHotkey({ uri: '//Alice' })]);
    miner = await CliMiner.start({
      miner: [
        `validatorMaxBytesBeforeAuth: ${BUDGET.perConnection}`,
        `preAuth: { bytesPerAddress: ${BUDGET.perAddress}, bytesTotal: ${BUDGET.total}, connectionsPerAddress: ${BUDGET.connectionsPerAddress} }`,
      ],
    });
    // Warm up the paths a validator takes, so the baseline is the miner at work, not at start-up.
    const warm = await TestValidator.connect({ url: miner.url, validator, minerHotkey: minerHotkey.ss58 });
    await warm.expect('V0ExecutorManifestRequest');
    await warm.close();
  }, 60_000);
  afterAll(async () => {
    await miner?.close();
  });

  it('holds 40 × 45 MiB unauthenticated frames to its budget and gives it all back', async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = miner.rssBytes();
    const limit = baseline + BUDGET.total + SLACK;
    let peak = baseline;
    const sockets: Socket[] = [];
    // Watch the miner's memory while the flood runs; past the limit, stop the flood (the test fails).
    const watch = setInterval(() => {
      peak = Math.max(peak, miner.rssBytes());
      if (peak > limit) for (const socket of sockets) socket.destroy();
    }, 25);
    let results: FloodResult[];
    try {
      const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
      const opened = await Promise.all(
        Array.from({ length: 40 }, (_, i) => openRawValidatorSocket(miner.port, validator.ss58, addresses[i % addresses.length])),
      );
      sockets.push(...opened.map((raw) => raw.socket));
      results = await Promise.all(opened.map((socket) => floodOneFrame(socket, FRAME)));
    } finally {
      clearInterval(watch);
    }
    console.info(
      `pre-auth flood: miner RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak +${((peak - baseline) / MiB).toFixed(0)} MiB (budget ${BUDGET.total / MiB} MiB)`,
    );
    expect(peak - baseline, `RSS grew by ${((peak - baseline) / MiB).toFixed(0)} MiB`).toBeLessThan(BUDGET.total + SLACK);
    // Every connection was cut off long before its frame was through, and was told why.
    for (const result of results) {
      expect(result.written).toBeLessThan(FRAME);
      expect(result.received).toMatch(/GenericError/);
    }
    const reasons = results.map((r) => /"details":\s*"([^"]*)"/.exec(r.received)?.[1] ?? '');
    expect(reasons.some((r) => /Too many unauthenticated connections from 127\.0\.0\./.test(r))).toBe(true);
    expect(reasons.some((r) => /before authenticating|sent more than/.test(r))).toBe(true);

    // Everything is given back once the connections are gone.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const health = (await (await fetch(`${miner.url}/healthz`)).json()) as Health;
      if (health.unauthenticated.connections === 0 && health.unauthenticated.bytes === 0) break;
      if (Date.now() > deadline) throw new Error(`still held: ${JSON.stringify(health.unauthenticated)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(miner.rssBytes() - baseline).toBeLessThan(BUDGET.total + SLACK);
    // And a real validator is served as before.
    const client = await TestValidator.connect({ url: miner.url, validator, minerHotkey: minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    await client.close();
    expect(miner.process!.exitCode).toBeNull();
  }, 120_000);

  it('parses nothing but the auth message before auth: other frames wait, unread, and are answered after it', async () => {
    const client = await TestValidator.connect({ url: miner.url, validator, minerHotkey: minerHotkey.ss58, authenticate: false });
    await client.sendRaw('not json at all');
    await client.send({ message_type: 'V0MainHotkeyMessage' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Unauthenticated: no "Malformed message" (it was never parsed), no answer at all.
    expect(client.received).toEqual([]);
    const { createValidatorAuth } = await import('../../core/src/protocol/index.js');
    await client.send(createValidatorAuth(validator, minerHotkey.ss58));
    await client.expect('V0ExecutorManifestRequest');
    expect((await client.expect('GenericError')).details).toMatch(/Malformed message/);
    await client.expect('V0MainHotkeyMessage');
    await client.close();
  }, 30_000);
});
