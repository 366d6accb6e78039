/**
 * JSON helpers for the one place the protocol carries integers wider than a JS number: the
 * nanosecond `timestamp_ns` of SDK signatures (~1.7e18 > 2^53). A signature digest covers those 8
 * bytes, so losing the last digits would break verification.
 */

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
// Characters a JSON number token may contain: digits, '-', '+', '.', 'e', 'E'.
const isNumberChar = (c: number) => isDigit(c) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;

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
      if (c === 0x5c)
        i++; // skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (!isDigit(c) && c !== 0x2d) continue;
    let end = i + 1;
    let integer = true;
    while (end < text.length && isNumberChar(text.charCodeAt(end))) {
      if (!isDigit(text.charCodeAt(end))) integer = false;
      end++;
    }
    // 2^53 has 16 digits, so anything shorter is exact.
    const digits = end - i - (c === 0x2d ? 1 : 0);
    if (integer && digits >= 16) {
      const token = text.slice(i, end);
      if (!Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copiedUpTo, i)}"${token}"`;
        copiedUpTo = end;
      }
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
  const escapedMarker = JSON.stringify(marker)
    .slice(1, -1)
    .replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`"${escapedMarker}(-?\\d+)"`, 'g'), '$1');
}
