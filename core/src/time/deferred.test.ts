import { describe, expect, it } from 'vitest';
import { deferred } from './deferred.js';

describe('deferred', () => {
  it('settles once, from outside, and says so', async () => {
    const pending = deferred<number>();
    expect(pending.settled).toBe(false);
    pending.resolve(1);
    pending.resolve(2);
    pending.reject(new Error('late'));
    expect(pending.settled).toBe(true);
    await expect(pending.promise).resolves.toBe(1);
  });

  it("with unobserved: 'ignore', a rejection nobody waits for is no unhandled rejection, and a late waiter still gets it", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pending = deferred<number>({ unobserved: 'ignore' });
      pending.reject(new Error('connection closed'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      await expect(pending.promise).rejects.toThrow('connection closed');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
