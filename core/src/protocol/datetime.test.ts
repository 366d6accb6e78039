import { describe, expect, it } from 'vitest';
import goldens from './__fixtures__/pydantic-datetimes.json' with { type: 'json' };
import {
  canonicalPydanticDatetime,
  datetimeFromDate,
  datetimeFromEpochMicros,
  datetimeToEpochMicros,
  parsePydanticDatetime,
  utcNowPydantic,
} from './datetime.js';

// Outputs were produced by pydantic 2.13 model_dump(mode="json"); see __fixtures__/make-goldens.py.
describe('pydantic datetime format', () => {
  for (const g of goldens) {
    if ('input' in g && g.input !== undefined) {
      it(`re-formats ${g.input} as pydantic does`, () => expect(canonicalPydanticDatetime(g.input)).toBe(g.output));
    } else {
      it(`formats epoch microseconds ${g.epochMicros}`, () => expect(datetimeFromEpochMicros(BigInt(g.epochMicros!))).toBe(g.output));
    }
  }

  it('rejects text pydantic rejects', () => {
    for (const bad of [
      '2025-13-01T00:00:00Z',
      '2025-02-30T00:00:00Z',
      '2025-01-02T24:00:00Z',
      '2025-01-02',
      'yesterday',
      '2025-01-02T03:04:05+05:30:15',
    ]) {
      expect(parsePydanticDatetime(bad), bad).toBeNull();
    }
  });

  it('round-trips through epoch microseconds, honouring offsets', () => {
    expect(datetimeToEpochMicros('2025-01-02T03:04:05.123456Z')).toBe(1735787045123456n);
    expect(datetimeToEpochMicros('2025-01-02T05:04:05.123456+02:00')).toBe(1735787045123456n);
    expect(datetimeFromDate(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 120)))).toBe('2025-01-02T03:04:05.120000Z');
  });

  it('stamps now from a clock or the high-resolution timer', () => {
    expect(utcNowPydantic({ now: () => Date.UTC(2030, 5, 1) })).toBe('2030-06-01T00:00:00Z');
    const now = datetimeToEpochMicros(utcNowPydantic())!;
    expect(Number(now / 1000n)).toBeGreaterThan(Date.now() - 5_000);
  });
});
