import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT_CHARS, truncateOutput } from './output-text.js';

describe('truncateOutput', () => {
  it('keeps texts up to 1,000,000 characters unchanged', () => {
    const text = 'x'.repeat(MAX_OUTPUT_CHARS);
    expect(truncateOutput(text)).toBe(text);
    expect(truncateOutput('')).toBe('');
  });

  it('keeps the first and last 500,000 characters of a longer text, joined by " ... "', () => {
    const text = 'a'.repeat(600_000) + 'MIDDLE' + 'b'.repeat(600_000);
    const out = truncateOutput(text);
    expect(out.length).toBe(1_000_005);
    expect(out.startsWith('a'.repeat(500_000) + ' ... ')).toBe(true);
    expect(out.endsWith(' ... ' + 'b'.repeat(500_000))).toBe(true);
    expect(out).not.toContain('MIDDLE');
  });

  it('counts characters as Python does (code points), never splitting an emoji', () => {
    // 700,000 emoji are 1,400,000 UTF-16 units but only 700,000 characters: no cut in Python.
    const emoji = '😀'.repeat(700_000);
    expect(truncateOutput(emoji)).toBe(emoji);

    const long = '😀'.repeat(1_200_000);
    const out = truncateOutput(long);
    expect([...out].length).toBe(1_000_005);
    expect(out.startsWith('😀'.repeat(500_000) + ' ... ')).toBe(true);
    expect(out.endsWith(' ... ' + '😀'.repeat(500_000))).toBe(true);
  });
});
