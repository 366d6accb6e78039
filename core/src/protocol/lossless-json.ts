/**
 * JSON helpers for the one place the protocol carries integers wider than a JS number: the
 * nanosecond `timestamp_ns` of SDK signatures (~1.7e18 > 2^53). A signature digest covers those 8
 * bytes, so losing the last digits would break verification.
 */

const DIGIT_OR_MINUS = /[-0-9]/;

/**
 * Returns `text` with every integer literal that a JS number cannot hold exactly turned into a
 * JSON string of the same digits (`1729622861880448856` → `"1729622861880448856"`). Characters
 * inside strings are left alone. The text must already be valid JSON.
 */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copiedUpTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (!DIGIT_OR_MINUS.test(text[i] as string)) continue;
    let end = i + 1;
    while (end < text.length && /[-+0-9.eE]/.test(text[end] as string)) end++;
    const token = text.slice(i, end);
    if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
      out += `${text.slice(copiedUpTo, i)}"${token}"`;
      copiedUpTo = end;
    }
    i = end - 1;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/** JSON.stringify that writes bigint values as plain JSON integers (all digits kept). */
export function stringifyWithBigInt(value: unknown): string {
  let sawBigInt = false;
  const marker = `\u0000bigint:${Math.random().toString(36).slice(2)}:`;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    sawBigInt = true;
    return marker + v.toString();
  });
  if (!sawBigInt) return text;
  const escapedMarker = JSON.stringify(marker).slice(1, -1).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`"${escapedMarker}(-?\\d+)"`, 'g'), '$1');
}
