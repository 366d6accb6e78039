import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hotkey } from '@horde/core';
import { signedStartedReceipt, testHotkey } from '@horde/core/testkit';
import { checkExcuseReceipts, isoToMicros } from './excuse-receipts.js';

/**
 * Receipt timestamps must mean the same instant whatever the validator machine's time zone: a
 * naive one is UTC (as core's pydantic-compatible parser reads it), not local time. The tests run
 * in New York time (UTC−4 in May), where reading it as local time would move it by four hours.
 */
const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'America/New_York';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const CHECKED_AT = Date.UTC(2025, 4, 1, 12, 0, 0);
const THREE_SECONDS_BEFORE = Date.UTC(2025, 4, 1, 11, 59, 57) * 1000 + 250_000;

describe('isoToMicros in a non-UTC time zone', () => {
  it('runs where local time is not UTC', () => {
    expect(new Date(CHECKED_AT).getTimezoneOffset()).toBe(240);
  });

  it('reads a naive timestamp as UTC, the same instant as its Z and offset forms, to the microsecond', () => {
    expect(isoToMicros('2025-05-01T11:59:57.250000')).toBe(THREE_SECONDS_BEFORE);
    expect(isoToMicros('2025-05-01T11:59:57.250000Z')).toBe(THREE_SECONDS_BEFORE);
    expect(isoToMicros('2025-05-01T07:59:57.25-04:00')).toBe(THREE_SECONDS_BEFORE);
    expect(isoToMicros('2025-05-01T11:59:57.250001')).toBe(THREE_SECONDS_BEFORE + 1);
  });

  it('gives NaN for text pydantic would not take as a datetime', () => {
    expect(isoToMicros('2025-05-01')).toBeNaN();
    expect(isoToMicros('May 1, 2025 12:00:00')).toBeNaN();
    expect(isoToMicros('2025-02-30T00:00:00Z')).toBeNaN();
  });
});

describe('checkExcuseReceipts with a naive receipt timestamp', () => {
  let rich: Hotkey;
  beforeAll(async () => {
    rich = await testHotkey('//Rich');
  });

  it('counts an excuse issued 3 s before the check, as it would with the Z form', () => {
    // Only the timestamp's text differs from a normally signed receipt; signatures are not what this checks.
    const signed = signedStartedReceipt(rich, {
      minerHotkey: 'miner',
      executorClass: 'always_on.test',
      isOrganic: true,
      ttl: 7,
      timestampMs: CHECKED_AT - 2_750,
    });
    const naive = { ...signed, payload: { ...signed.payload, timestamp: signed.payload.timestamp.replace(/Z$/, '') } };
    expect(naive.payload.timestamp).toBe('2025-05-01T11:59:57.250000');
    const verdict = checkExcuseReceipts([naive], {
      declinedJobUuid: 'declined',
      minerHotkey: 'miner',
      executorClass: 'always_on.test',
      checkedAt: CHECKED_AT,
      trustedValidators: new Set([rich.ss58]),
      leewayMs: 2_000,
      verifySignature: () => true,
    });
    expect(verdict.rejected).toEqual([]);
    expect(verdict.valid).toHaveLength(1);
  });
});
