import { describe, expect, it } from 'vitest';
import { Counts } from './counts.js';

describe('Counts', () => {
  it('counts up and down per key and drops a key that falls to 0', () => {
    const counts = new Counts<string>();
    counts.add('a');
    counts.add('a');
    counts.add('b');
    expect(counts.get('a')).toBe(2);
    counts.remove('a');
    counts.remove('b');
    expect(counts.get('a')).toBe(1);
    expect(counts.get('b')).toBe(0);
    expect([...counts.entries()]).toEqual([['a', 1]]);
    const copy = counts.toMap();
    counts.remove('a');
    expect(copy.get('a')).toBe(1);
    expect(counts.get('a')).toBe(0);
    expect([...counts.entries()]).toEqual([]);
  });
});
