import { describe, expect, it } from 'vitest';
import { CommitmentError } from './errors.js';
import {
  decodeManifestCommitment,
  encodeManifestCommitment,
  extractManifestPayload,
  formatManifest,
  parseManifest,
} from './manifest-commitment.js';

describe('manifest commitment codec', () => {
  it('formats ComputeHorde classes sorted by short code', () => {
    expect(formatManifest({ 'always_on.llm.a6000': 2, 'always_on.cpu.8c.16gb': 4 })).toBe('C4;L2');
    expect(encodeManifestCommitment({ 'always_on.llm.a6000': 2, 'always_on.cpu.8c.16gb': 4 })).toBe('<M:C4;L2>');
    expect(encodeManifestCommitment({ 'spin_up-4min.gpu-24gb': 1, 'always_on.gpu-24gb': 3, 'always_on.test': 0 })).toBe('<M:A3;S1;T0>');
  });

  it('writes an empty envelope for an empty manifest (a paused miner)', () => {
    expect(encodeManifestCommitment({})).toBe('<M:>');
    expect(decodeManifestCommitment('<M:>')).toEqual({ manifest: {}, otherData: '' });
  });

  it('keeps the other commitment data and replaces an old envelope', () => {
    const existing = '{"contract":{"address":"0xabc"}}<M:L1>';
    const next = encodeManifestCommitment({ 'always_on.llm.a6000': 5 }, { existing });
    expect(next).toBe('{"contract":{"address":"0xabc"}}<M:L5>');
    expect(decodeManifestCommitment(next)).toEqual({
      manifest: { 'always_on.llm.a6000': 5 },
      otherData: '{"contract":{"address":"0xabc"}}',
    });
  });

  it('moves an envelope found in the middle to the end', () => {
    expect(encodeManifestCommitment({ 'always_on.test': 1 }, { existing: 'a<M:T9>b' })).toBe('ab<M:T1>');
  });

  it('reports no manifest when there is no envelope', () => {
    expect(decodeManifestCommitment('hello')).toEqual({ manifest: null, otherData: 'hello' });
    expect(extractManifestPayload('x<M:A1>y<M:S2>')).toEqual({ otherData: 'xy', payload: 'A1' });
  });

  it('skips unknown codes and malformed pairs like ComputeHorde', () => {
    expect(parseManifest('A3; Z9;L;Sx;T 2;C-1')).toEqual({ 'always_on.gpu-24gb': 3, 'always_on.test': 2 });
  });

  it('uses the letters a plugin supplies for its classes', () => {
    const shortCodes = { 'always_on.gpu.h100': 'H', 'always_on.test': 'T' };
    const text = encodeManifestCommitment({ 'always_on.gpu.h100': 8, 'always_on.test': 1 }, { shortCodes });
    expect(text).toBe('<M:H8;T1>');
    expect(decodeManifestCommitment(text, shortCodes).manifest).toEqual({ 'always_on.gpu.h100': 8, 'always_on.test': 1 });
  });

  it('names the class that has no short code', () => {
    expect(() => encodeManifestCommitment({ 'always_on.gpu.h100': 1 })).toThrow(/always_on\.gpu\.h100 has no short code/);
  });

  it('refuses ambiguous or unusable short codes', () => {
    expect(() => formatManifest({}, { a: 'X', b: 'X' })).toThrow(/used by both/);
    expect(() => formatManifest({}, { a: 'XY' })).toThrow(/one letter/);
    expect(() => formatManifest({}, { a: ';' })).toThrow(CommitmentError);
  });

  it('keeps the whole commitment within 128 bytes', () => {
    const existing = 'x'.repeat(118);
    expect(encodeManifestCommitment({ 'always_on.test': 1 }, { existing })).toHaveLength(124);
    expect(() => encodeManifestCommitment({ 'always_on.test': 1000000 }, { existing })).toThrow(/over the chain's 128-byte limit/);
    expect(() => encodeManifestCommitment({ 'always_on.test': 1 }, { existing: 'é'.repeat(62) })).toThrow(CommitmentError); // 68 characters, 130 bytes
  });
});
