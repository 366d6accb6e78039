/**
 * The composition root's closing half: reverse order of opening, every step logged, a failing step
 * never skips the rest, a second close (a second signal) closes nothing twice, and a step opened
 * while closing (a signal during start-up) is closed rather than leaked.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '@horde/core/runtime';
import { Cleanup } from './cleanup.js';

/** A real pino logger writing JSON lines into an array. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { logger, lines };
}

describe('Cleanup', () => {
  it('closes newest first and logs every step', async () => {
    const { logger, lines } = capturedLogger();
    const cleanup = new Cleanup(logger);
    const closed: string[] = [];
    for (const name of ['store', 'chain', 'plugins', 'miner']) cleanup.add(name, () => void closed.push(name));
    expect(cleanup.pending).toEqual(['store', 'chain', 'plugins', 'miner']);
    await cleanup.close();
    expect(closed).toEqual(['miner', 'plugins', 'chain', 'store']);
    expect(lines.filter((line) => line['msg'] === 'closed').map((line) => line['step'])).toEqual(['miner', 'plugins', 'chain', 'store']);
    expect(cleanup.pending).toEqual([]);
  });

  it('goes on past a failing step, thrown or rejected, and logs the failure with its step', async () => {
    const { logger, lines } = capturedLogger();
    const cleanup = new Cleanup(logger);
    const closed: string[] = [];
    cleanup.add('store', async () => void closed.push('store'));
    cleanup.add('chain', async () => {
      throw new Error('socket already gone');
    });
    cleanup.add('plugins', () => {
      throw new Error('plugin close threw synchronously');
    });
    cleanup.add('miner', () => void closed.push('miner'));
    await expect(cleanup.close()).resolves.toBeUndefined();
    expect(closed).toEqual(['miner', 'store']);
    const failures = lines.filter((line) => line['msg'] === 'close failed; closing the rest');
    expect(failures.map((line) => [line['step'], (line['err'] as { message: string }).message])).toEqual([
      ['plugins', 'plugin close threw synchronously'],
      ['chain', 'socket already gone'],
    ]);
    expect(failures.every((line) => line['level'] === 50)).toBe(true);
  });

  it('is idempotent: concurrent and later closes share one run and close nothing twice', async () => {
    const { logger } = capturedLogger();
    const cleanup = new Cleanup(logger);
    let storeCloses = 0;
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    cleanup.add('store', () => void storeCloses++);
    cleanup.add('server', () => slow);
    const first = cleanup.close();
    const second = cleanup.close(); // SIGINT, then SIGTERM while the server is still draining
    expect(second).toBe(first);
    expect(cleanup.closing).toBe(true);
    release();
    await Promise.all([first, second]);
    await cleanup.close();
    expect(storeCloses).toBe(1);
  });

  it('closes a step added while closing before the older steps, and warns about it', async () => {
    const { logger, lines } = capturedLogger();
    const cleanup = new Cleanup(logger);
    const closed: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    cleanup.add('store', () => void closed.push('store'));
    cleanup.add('server', async () => {
      await slow;
      closed.push('server');
    });
    const closing = cleanup.close();
    // An opening that was still under way when the stop came finishes now and registers itself.
    cleanup.add('late chain', () => void closed.push('late chain'));
    release();
    await closing; // the first caller's promise covers the late step too
    expect(closed).toEqual(['server', 'late chain', 'store']);
    expect(
      lines.some((line) => line['msg'] === 'opened while the process was closing; closing it now' && line['step'] === 'late chain'),
    ).toBe(true);
  });

  it('closes a step added after everything closed, and close() waits for it', async () => {
    const { logger } = capturedLogger();
    const cleanup = new Cleanup(logger);
    await cleanup.close();
    let closed = false;
    cleanup.add('very late', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      closed = true;
    });
    await cleanup.close();
    expect(closed).toBe(true);
  });
});
