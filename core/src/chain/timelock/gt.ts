import { bls12_381 } from '@noble/curves/bls12-381';

/**
 * The pairing as arkworks (ark-ec 0.4, which the chain's `tle` and `w3f-bls` use) computes it, so
 * the bytes hashed into a ciphertext match the chain's. arkworks' final exponentiation follows
 * Hayashida–Hayasaka–Teruya (eprint 2020/875) and raises to 3·(p¹²−1)/r, the standard pairing
 * cubed; noble's BLS12-381 final exponentiation is the same formula, so noble's pairing is used
 * as is. gt.test.ts pins that equality (against a transcription of arkworks' code and against the
 * textbook exponent), so a change in noble cannot silently break decryption on chain.
 */
type Fp12 = ReturnType<typeof bls12_381.pairing>;
type G1 = Parameters<typeof bls12_381.pairing>[0];
type G2 = Parameters<typeof bls12_381.pairing>[1];

/** `Bls12_381::pairing(p, q).0` as arkworks returns it. */
export function arkworksPairing(p: G1, q: G2): Fp12 {
  return bls12_381.pairing(p, q);
}

const FP_BYTES = 48;

function fpLe(value: bigint, out: Uint8Array, offset: number): void {
  let v = value;
  for (let i = 0; i < FP_BYTES; i++) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * arkworks' `serialize_compressed` of an Fq12 (576 bytes): field elements carry no flags, so it is
 * the twelve base-field coefficients, each 48 bytes little-endian, in tower order
 * c0.c0.c0, c0.c0.c1, c0.c1.c0, … c1.c2.c1.
 */
export function serializeGt(value: Fp12): Uint8Array {
  const out = new Uint8Array(12 * FP_BYTES);
  let offset = 0;
  for (const fp6 of [value.c0, value.c1]) {
    for (const fp2 of [fp6.c0, fp6.c1, fp6.c2]) {
      for (const fp of [fp2.c0, fp2.c1]) {
        fpLe(fp, out, offset);
        offset += FP_BYTES;
      }
    }
  }
  return out;
}
