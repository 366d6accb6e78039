import { describe, expect, it } from 'vitest';
import { quoteUnsafeIntegers, stringifyWithBigInt } from './lossless-json.js';

describe('lossless integers', () => {
  it('quotes only integers a JS number cannot hold, never inside strings', () => {
    const text =
      '{"a":1729622861880448856,"b":"1729622861880448856 \\" 99999999999999999","c":[-9007199254740993,9007199254740991,1.5e300,12345678901234567.5]}';
    expect(JSON.parse(quoteUnsafeIntegers(text))).toEqual({
      a: '1729622861880448856',
      b: '1729622861880448856 " 99999999999999999',
      c: ['-9007199254740993', 9007199254740991, 1.5e300, 12345678901234567.5],
    });
    expect(quoteUnsafeIntegers('{"x":[1,2,3]}')).toBe('{"x":[1,2,3]}');
  });

  it('writes bigint as a plain integer and leaves look-alike strings alone', () => {
    const text = stringifyWithBigInt({ ts: 1729622861880448856n, neg: -5n, s: '\u0000bigint:1' });
    expect(text).toBe('{"ts":1729622861880448856,"neg":-5,"s":"\\u0000bigint:1"}');
  });
});
