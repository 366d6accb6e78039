import { TimelockError } from './errors.js';

/**
 * The `tle` crate's `TLECiphertext<TinyBLS381>` (ideal-lab5/timelock at the rev subtensor pins,
 * tle/src/tlock.rs) in arkworks' compressed encoding, which is what `commit_timelocked_weights`
 * carries:
 *
 * ```text
 * header.u       96 bytes   G2 point, compressed (zcash flag bits), U = r·P
 * header.v       u64 LE len + bytes (32)   sigma ⊕ H2(e(Q_id, P_pub)^r)
 * header.w       u64 LE len + bytes (32)   key ⊕ H4(sigma)
 * body           u64 LE len + AESOutput    { ciphertext: Vec<u8> (with the 16-byte tag), nonce: Vec<u8> (12) }
 * cipher_suite   u64 LE len + b"AES_GCM_"
 * ```
 *
 * arkworks writes every `Vec<T>` length as a little-endian u64, not as a SCALE compact.
 */
export interface TimelockCiphertext {
  readonly u: Uint8Array;
  readonly v: Uint8Array;
  readonly w: Uint8Array;
  readonly aesCiphertext: Uint8Array;
  readonly aesNonce: Uint8Array;
  readonly cipherSuite: Uint8Array;
}

export const G2_COMPRESSED_BYTES = 96;
export const AES_GCM_CIPHER_SUITE = new TextEncoder().encode('AES_GCM_');

function u64Le(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

function arkVec(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + bytes.length);
  out.set(u64Le(bytes.length), 0);
  out.set(bytes, 8);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Reads arkworks-encoded fields from a byte string, failing with the field's name. */
class ArkReader {
  #offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  fixed(length: number, what: string): Uint8Array {
    if (this.#offset + length > this.bytes.length) {
      throw new TimelockError(
        'MALFORMED_CIPHERTEXT',
        `ciphertext ends inside ${what} (needs ${length} bytes at offset ${this.#offset}, has ${this.bytes.length})`,
      );
    }
    const out = this.bytes.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  vec(what: string): Uint8Array {
    const view = new DataView(this.fixed(8, `${what}'s length`).buffer);
    const length = view.getBigUint64(0, true);
    if (length > BigInt(this.bytes.length)) {
      throw new TimelockError('MALFORMED_CIPHERTEXT', `${what} claims ${length} bytes, more than the ciphertext holds`);
    }
    return this.fixed(Number(length), what);
  }

  end(what: string): void {
    if (this.#offset !== this.bytes.length) {
      throw new TimelockError('MALFORMED_CIPHERTEXT', `${this.bytes.length - this.#offset} bytes left over after ${what}`);
    }
  }
}

export function encodeTimelockCiphertext(ct: TimelockCiphertext): Uint8Array {
  const body = concat([arkVec(ct.aesCiphertext), arkVec(ct.aesNonce)]);
  return concat([ct.u, arkVec(ct.v), arkVec(ct.w), arkVec(body), arkVec(ct.cipherSuite)]);
}

/**
 * Parses the layout above. Like the chain's `deserialize_compressed` on a `&mut &[u8]` reader it
 * does not require the input to end after the ciphertext; `exact` (the default) does, so a caller
 * handing over more bytes than a ciphertext learns of it.
 */
export function decodeTimelockCiphertext(bytes: Uint8Array, options: { exact?: boolean } = {}): TimelockCiphertext {
  const reader = new ArkReader(bytes);
  const u = reader.fixed(G2_COMPRESSED_BYTES, 'header.u');
  const v = reader.vec('header.v');
  const w = reader.vec('header.w');
  const body = reader.vec('body');
  const cipherSuite = reader.vec('cipher_suite');
  if (options.exact !== false) reader.end('cipher_suite');
  const bodyReader = new ArkReader(body);
  const aesCiphertext = bodyReader.vec('body.ciphertext');
  const aesNonce = bodyReader.vec('body.nonce');
  bodyReader.end('body.nonce');
  return { u, v, w, aesCiphertext, aesNonce, cipherSuite };
}
