import { describe, expect, it } from 'vitest';
import { definedFields } from './defined-fields.js';

describe('definedFields', () => {
  it('drops the undefined fields and keeps every other value, falsy ones included', () => {
    const fields = definedFields({ a: undefined, b: null, c: 0, d: '', e: false, f: 'x' });
    expect(Object.keys(fields)).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect('a' in fields).toBe(false);
    expect(fields).toStrictEqual({ b: null, c: 0, d: '', e: false, f: 'x' });
  });

  it('leaves defaults alone when spread over them', () => {
    const defaults = { port: 80, host: 'localhost' };
    const port: number | undefined = undefined;
    expect({ ...defaults, ...definedFields({ port, host: '127.0.0.1' }) }).toEqual({ port: 80, host: '127.0.0.1' });
  });
});
