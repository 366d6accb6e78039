/**
 * Datetimes exactly as pydantic v2 writes them with `model_dump(mode="json")`, because receipt
 * signatures cover that text. Checked against pydantic 2.13 (see __fixtures__/pydantic-datetimes.json):
 *
 * - `YYYY-MM-DDTHH:MM:SS`, then `.ffffff` (always six digits) only when microseconds are non-zero:
 *   `2025-01-02T03:04:05.123456Z`, `2025-01-02T03:04:05.100000Z`, but `2025-01-02T03:04:05Z`;
 * - a UTC offset of zero is written `Z` (also when the input said `+00:00`), another offset
 *   `+HH:MM`, and a naive datetime gets no suffix;
 * - input fractions longer than six digits are truncated; `t`/space separators, `z`, `+0000` and
 *   missing seconds are accepted.
 *
 * A receipt's signing blob is built from the *re-formatted* datetimes, as Python re-dumps the
 * parsed model, so `2025-01-02T03:04:05.5+00:00` on the wire signs as `...05.500000Z`.
 */

export interface PydanticDatetime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** Seconds east of UTC; null for a naive datetime. */
  offsetSeconds: number | null;
}

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Parses the ISO-8601 forms pydantic accepts for a datetime; null when the text is not one. */
export function parsePydanticDatetime(text: string): PydanticDatetime | null {
  const m = DATETIME_RE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fraction = m[7] ?? '';
  const microsecond = fraction === '' ? 0 : Number(fraction.slice(0, 6).padEnd(6, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetSeconds: number | null = null;
  if (m[8] !== undefined) offsetSeconds = 0;
  else if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetSeconds = (m[9] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  return { year, month, day, hour, minute, second, microsecond, offsetSeconds };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Formats as pydantic's `model_dump(mode="json")` does. */
export function formatPydanticDatetime(dt: PydanticDatetime): string {
  let out = `${pad(dt.year, 4)}-${pad(dt.month)}-${pad(dt.day)}T${pad(dt.hour)}:${pad(dt.minute)}:${pad(dt.second)}`;
  if (dt.microsecond !== 0) out += `.${pad(dt.microsecond, 6)}`;
  if (dt.offsetSeconds === null) return out;
  if (dt.offsetSeconds === 0) return `${out}Z`;
  const abs = Math.abs(dt.offsetSeconds);
  return `${out}${dt.offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600))}:${pad(Math.floor((abs % 3600) / 60))}`;
}

/** The text Python signs for a datetime field given as `text`; null when `text` is not a datetime. */
export function canonicalPydanticDatetime(text: string): string | null {
  const dt = parsePydanticDatetime(text);
  return dt === null ? null : formatPydanticDatetime(dt);
}

/** A UTC datetime (`...Z`) from microseconds since the Unix epoch. */
export function datetimeFromEpochMicros(epochMicros: bigint | number): string {
  const micros = typeof epochMicros === 'bigint' ? epochMicros : BigInt(Math.trunc(epochMicros));
  let ms = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    sub += 1000n;
    ms -= 1n;
  }
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) throw new RangeError(`epoch microseconds out of range: ${micros}`);
  return formatPydanticDatetime({
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    microsecond: d.getUTCMilliseconds() * 1000 + Number(sub),
    offsetSeconds: 0,
  });
}

/** A UTC datetime from a JS Date (millisecond precision). */
export function datetimeFromDate(date: Date): string {
  return datetimeFromEpochMicros(BigInt(date.getTime()) * 1000n);
}

/**
 * Microseconds since the Unix epoch; null for unparsable text. A naive datetime is taken as UTC
 * (ComputeHorde always writes aware ones).
 */
export function datetimeToEpochMicros(text: string): bigint | null {
  const dt = parsePydanticDatetime(text);
  if (dt === null) return null;
  const d = new Date(0);
  d.setUTCFullYear(dt.year, dt.month - 1, dt.day);
  d.setUTCHours(dt.hour, dt.minute, dt.second, 0);
  return BigInt(d.getTime()) * 1000n + BigInt(dt.microsecond) - BigInt(dt.offsetSeconds ?? 0) * 1_000_000n;
}

/**
 * Now, as pydantic writes `datetime.now(UTC)`. With a clock (the runtime's `Clock`) the precision
 * is the clock's milliseconds; without one, microseconds from the high-resolution timer.
 */
export function utcNowPydantic(clock?: { now(): number }): string {
  if (clock) return datetimeFromEpochMicros(BigInt(Math.trunc(clock.now())) * 1000n);
  return datetimeFromEpochMicros(Math.trunc((performance.timeOrigin + performance.now()) * 1000));
}
