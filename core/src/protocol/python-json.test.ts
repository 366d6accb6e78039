import { describe, expect, it } from 'vitest';
import goldens from './__fixtures__/json-dumps.json' with { type: 'json' };
import { compareCodePoints, pythonFloatRepr, pythonJsonDumps } from './python-json.js';

// Expected strings come from Python's json.dumps(value, sort_keys=True); see __fixtures__/make-goldens.py.
describe('pythonJsonDumps', () => {
  it.each(goldens.map((g) => [g.output, g] as const))('matches Python byte for byte: %s', (_name, golden) => {
    expect(pythonJsonDumps(JSON.parse(golden.input), { sortKeys: true })).toBe(golden.output);
  });

  it('keeps insertion order without sort_keys, like json.dumps(value)', () => {
    expect(pythonJsonDumps({ b: 1, a: [true, null] })).toBe('{"b": 1, "a": [true, null]}');
  });

  it('writes floats as Python repr does', () => {
    expect(pythonFloatRepr(1e-5)).toBe('1e-05');
    expect(pythonFloatRepr(0.0001)).toBe('0.0001');
    expect(pythonFloatRepr(1.5e300)).toBe('1.5e+300');
    expect(pythonFloatRepr(-0)).toBe('-0.0');
    expect(pythonFloatRepr(Number.NaN)).toBe('NaN');
    expect(pythonJsonDumps([0.5, 2, -3])).toBe('[0.5, 2, -3]');
  });

  it('sorts keys by code point, not by UTF-16 unit', () => {
    expect(['\u{1F600}', '\uffff'].sort(compareCodePoints)).toEqual(['\uffff', '\u{1F600}']);
  });

  it('refuses values Python cannot serialise', () => {
    expect(() => pythonJsonDumps({ f: () => 1 })).toThrow(/not JSON serializable/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => pythonJsonDumps(loop)).toThrow(/Circular/);
  });
});
