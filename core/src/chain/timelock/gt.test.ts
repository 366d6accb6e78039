import { bls12_381 } from '@noble/curves/bls12-381';
import { describe, expect, it } from 'vitest';

import { arkworksPairing, serializeGt } from './gt.js';

type Fp12 = ReturnType<typeof bls12_381.pairing>;
const Fp12 = bls12_381.fields.Fp12;
const BLS_X_ABS = 0xd201000000010000n;

/**
 * `ark_ec::models::bls12::Bls12Config::final_exponentiation` (arkworks-rs/algebra v0.4.x,
 * ec/src/models/bls12/mod.rs) written out step by step on noble's Fp12: the reference the chain's
 * decryptor uses, kept here to pin that noble computes the same value.
 */
function arkworksFinalExponentiation(f: Fp12): Fp12 {
  const expByX = (g: Fp12): Fp12 => Fp12.conjugate(Fp12._cyclotomicExp(g, BLS_X_ABS));
  let r = Fp12.mul(Fp12.conjugate(f), Fp12.inv(f));
  r = Fp12.mul(Fp12.frobeniusMap(r, 2), r);
  let y0 = Fp12._cyclotomicSquare(r);
  let y1 = expByX(r);
  let y2 = Fp12.conjugate(r);
  y1 = Fp12.mul(y1, y2);
  y2 = expByX(y1);
  y1 = Fp12.conjugate(y1);
  y1 = Fp12.mul(y1, y2);
  y2 = expByX(y1);
  y1 = Fp12.frobeniusMap(y1, 1);
  y1 = Fp12.mul(y1, y2);
  r = Fp12.mul(r, y0);
  y0 = expByX(y1);
  y2 = expByX(y0);
  y0 = Fp12.frobeniusMap(y1, 2);
  y1 = Fp12.conjugate(y1);
  y1 = Fp12.mul(y1, y2);
  y1 = Fp12.mul(y1, y0);
  return Fp12.mul(r, y1);
}

describe('arkworks-compatible pairing', () => {
  const g1 = bls12_381.G1.ProjectivePoint.BASE.multiply(5n);
  const g2 = bls12_381.G2.ProjectivePoint.BASE.multiply(7n);
  const miller = bls12_381.pairing(g1, g2, false);

  it('equals arkworks’ final exponentiation of the same Miller loop', () => {
    expect(Fp12.eql(arkworksPairing(g1, g2), arkworksFinalExponentiation(miller))).toBe(true);
  });

  it('is the textbook pairing cubed, as eprint 2020/875’s formula gives', () => {
    const p = bls12_381.fields.Fp.ORDER;
    const r = bls12_381.fields.Fr.ORDER;
    const textbook = Fp12.pow(miller, (p ** 12n - 1n) / r);
    expect(Fp12.eql(arkworksPairing(g1, g2), textbook)).toBe(false);
    expect(Fp12.eql(arkworksPairing(g1, g2), Fp12.pow(textbook, 3n))).toBe(true);
  });

  it('serializes Fq12 as arkworks does: twelve 48-byte little-endian coefficients in tower order', () => {
    const one = serializeGt(Fp12.ONE);
    expect(one.length).toBe(576);
    expect(one[0]).toBe(1);
    expect(one.subarray(1).every((b) => b === 0)).toBe(true);
    const value = serializeGt(arkworksPairing(g1, g2));
    const c0c0c1 = arkworksPairing(g1, g2).c0.c0.c1;
    let le = 0n;
    for (let i = 47; i >= 0; i--) le = (le << 8n) | BigInt(value[48 + i]!);
    expect(le).toBe(c0c0c1);
  });
});
