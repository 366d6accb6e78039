import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../time/clock.js';
import { Deadline } from './deadline.js';

const clock = new SystemClock();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadline', () => {
  it('carries unused time of a stage over to the next', async () => {
    const deadline = new Deadline(clock, 0.1); // leeway 100 ms
    deadline.extend(0.2); // stage one: 200 ms
    await deadline.run(
      () => sleep(20),
      () => new Error('stage one timed out'),
    );
    deadline.extend(0.05); // stage two gets its 50 ms plus what stage one left
    expect(deadline.leftMs()).toBeGreaterThan(250);
    await expect(
      deadline.run(
        () => sleep(200),
        () => new Error('stage two timed out'),
      ),
    ).resolves.toBeUndefined();
  });

  it('rejects with the stage error and aborts the work when the deadline passes', async () => {
    const deadline = new Deadline(clock, 0.05);
    let aborted: unknown = null;
    const run = deadline.run(
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => (aborted = signal.reason));
          setTimeout(resolve, 1_000);
        }),
      () => new Error('too slow'),
    );
    await expect(run).rejects.toThrow('too slow');
    expect(aborted).toBeInstanceOf(Error);
  });

  it('gives work that enforces the deadline itself a grace period to report', async () => {
    const deadline = new Deadline(clock, 0.05);
    const result = await deadline.run(
      async () => {
        await sleep(80); // past the deadline, within the grace
        return 'reported';
      },
      () => new Error('too slow'),
      undefined,
      200,
    );
    expect(result).toBe('reported');
  });

  it('passes an outer abort (SIGTERM) to the work', async () => {
    const outer = new AbortController();
    const deadline = new Deadline(clock, 5);
    const run = deadline.run(
      (signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
      () => new Error('timeout'),
      outer.signal,
    );
    outer.abort(new Error('SIGTERM'));
    await expect(run).rejects.toThrow('stopped');
  });
});
