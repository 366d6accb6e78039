/** An inclusive byte range within a file of known size. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type RangeDecision =
  /** No usable Range header: send the whole file with 200. */
  | { readonly kind: 'full' }
  /** Send `range` with 206 and `Content-Range: bytes start-end/size`. */
  | { readonly kind: 'partial'; readonly range: ByteRange }
  /** 416 with `Content-Range: bytes * /size` (nothing at or after the requested start). */
  | { readonly kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * Decides how to answer a `Range` header for a file of `size` bytes, as nginx does for static
 * files: `bytes=N-` / `bytes=N-M` / `bytes=-S` (last S bytes); a start at or past the end is 416,
 * which receipt transfer reads as "nothing new". Headers that are not one well-formed byte range
 * (multiple ranges, other units, garbage) are ignored and the whole file is sent, which RFC 9110
 * allows.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };

  if (first === '') {
    // Suffix range: the last `last` bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - length), end: size - 1 } };
  }

  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'full' };
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', range: { start, end } };
}
