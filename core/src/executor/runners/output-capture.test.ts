import { describe, expect, it } from 'vitest';
import { OutputCapture } from './output-capture.js';

describe('OutputCapture', () => {
  it('keeps output up to the cap whole, even a character split across writes', () => {
    const capture = new OutputCapture(100);
    const euro = Buffer.from('€'); // 3 bytes
    capture.write(Buffer.from('a'.repeat(49)));
    capture.write(euro.subarray(0, 2));
    capture.write(euro.subarray(2));
    capture.write(Buffer.from('b'.repeat(10)));
    expect(capture.text()).toBe('a'.repeat(49) + '€' + 'b'.repeat(10));
  });

  it('keeps the head and the tail of longer output, saying how much was dropped', () => {
    const capture = new OutputCapture(100);
    capture.write(Buffer.from('H'.repeat(50)));
    for (let i = 0; i < 1000; i++) capture.write(Buffer.from('m'.repeat(10)));
    capture.write(Buffer.from('T'.repeat(50)));
    const text = capture.text();
    expect(capture.totalBytes).toBe(10_100);
    expect(text.startsWith('H'.repeat(50) + '\n[... 10000 bytes omitted by horde ...]\n')).toBe(true);
    expect(text.endsWith('T'.repeat(50))).toBe(true);
  });

  it('keeps the tail right when one write is larger than the cap', () => {
    const capture = new OutputCapture(10);
    capture.write(Buffer.from('0123456789abcdefghij'));
    expect(capture.text()).toBe('01234\n[... 10 bytes omitted by horde ...]\nfghij');
  });
});
