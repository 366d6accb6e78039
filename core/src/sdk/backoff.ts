/**
 * The SDK's retry delay: 0.2 s · 2^(attempt−1), at most 5 s, plus up to 10 % jitter
 * (`attempt` counts from 1: the delay before the second try is the first one).
 */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(200 * 2 ** Math.max(0, attempt - 1), 5_000);
  return base + base * 0.1 * random();
}

export { sleep } from '../time/clock.js';
