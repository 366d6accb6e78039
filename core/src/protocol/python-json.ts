/**
 * Byte-exact re-implementations of the two JSON encoders ComputeHorde signs with:
 *
 * - `pythonJsonDumps`: Python's `json.dumps(value, sort_keys=...)` with its defaults —
 *   separators `", "` and `": "`, `ensure_ascii=True` (every code unit outside printable ASCII
 *   becomes `\uXXXX`, lowercase hex, astral characters as surrogate pairs), keys sorted by code
 *   point, floats as Python's `repr` (`1e-05`, `0.0001`, `1.5e-07`).
 * - `pydanticJson`: pydantic v2's `model_dump_json()` — compact, keys in the order given, non-ASCII
 *   kept as UTF-8. That is what `JSON.stringify` does already (both escape only `"`, `\` and
 *   control characters, with the same short forms and lowercase `\u00XX`).
 *
 * Known limits, all from JavaScript numbers: an integer-valued number is written as an int
 * (`1`, not Python's float `1.0`), and integers beyond 2^53 have already lost precision when
 * `JSON.parse` read them. No ComputeHorde signing blob carries such numbers.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

export class PythonJsonError extends Error {}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

// Strings made only of printable ASCII without `"` or `\` need no escaping: the common case.
const NEEDS_ESCAPE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/;

/** `json.dumps(s)` for a string, ensure_ascii=True: printable ASCII stays, the rest is escaped. */
export function pythonJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) {
      out += s[i];
      continue;
    }
    const short = SHORT_ESCAPES[c];
    // UTF-16 code units map one to one onto Python's escapes: astral characters come out as the
    // same surrogate pair Python writes (`\ud83d\ude00`).
    out += short ?? `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}

/** Python's `float.__repr__` (what json.dumps writes for a float). */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, as repr does.
  const exp = x.toExponential();
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp);
  if (!match) throw new PythonJsonError(`cannot format ${x}`);
  const [, sign, first, rest = '', expText] = match as unknown as [string, string, string, string | undefined, string];
  const digits = first + rest;
  const exponent = Number(expText);
  const decpt = exponent + 1; // position of the decimal point relative to the digit string
  // CPython (format_float_short, 'r' mode): scientific when decpt <= -4 or decpt > 16.
  if (decpt <= -4 || decpt > 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

function pythonNumber(x: number): string {
  if (Number.isInteger(x) && !Object.is(x, -0)) {
    // An int in Python; large ones still print in full (BigInt avoids "1e+21").
    return Math.abs(x) < 1e21 ? String(x) : BigInt(x).toString();
  }
  return pythonFloatRepr(x);
}

/** Compares by Unicode code point, as Python sorts str keys (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Only differs from code-unit order when one side is a surrogate and the other is above it.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1;
    return ca - cb;
  }
  return a.length - b.length;
}

export interface PythonJsonOptions {
  /** `sort_keys=True` (what every ComputeHorde signing blob uses). */
  sortKeys?: boolean;
}

/**
 * `json.dumps(value, sort_keys=opts.sortKeys)` with Python's defaults, byte for byte.
 * `undefined` object members are skipped (they have no Python counterpart); bigint is written as
 * an int.
 */
export function pythonJsonDumps(value: unknown, opts: PythonJsonOptions = {}): string {
  const sortKeys = opts.sortKeys ?? false;
  const seen = new Set<object>();
  const encode = (v: unknown): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return pythonJsonString(v);
      case 'number':
        return pythonNumber(v);
      case 'bigint':
        return v.toString();
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object':
        break;
      default:
        throw new PythonJsonError(`Object of type ${typeof v} is not JSON serializable`);
    }
    const obj = v as object;
    if (seen.has(obj)) throw new PythonJsonError('Circular reference detected');
    seen.add(obj);
    let out: string;
    if (Array.isArray(obj)) {
      out = `[${obj.map((item: unknown) => encode(item === undefined ? null : item)).join(', ')}]`;
    } else {
      const record = obj as Record<string, unknown>;
      let keys = Object.keys(record).filter((k) => record[k] !== undefined);
      if (sortKeys) keys = keys.sort(compareCodePoints);
      out = `{${keys.map((k) => `${pythonJsonString(k)}: ${encode(record[k])}`).join(', ')}}`;
    }
    seen.delete(obj);
    return out;
  };
  return encode(value);
}

/** pydantic v2 `model_dump_json()` of an already ordered value (see the module comment). */
export function pydanticJson(value: JsonValue): string {
  return JSON.stringify(value);
}
