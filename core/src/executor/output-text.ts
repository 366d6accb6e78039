/**
 * How much of a job's stdout/stderr travels in `V0JobFinishedRequest` (the full text goes to
 * `/output/stdout.txt` and `/output/stderr.txt`). ComputeHorde keeps texts up to 1,000,000
 * characters; a longer one becomes its first 500,000 characters, " ... ", and its last 500,000.
 */

export const MAX_OUTPUT_CHARS = 1_000_000;
const KEEP_EACH_END = MAX_OUTPUT_CHARS / 2;

/**
 * Python counts characters as code points, JavaScript's `length` counts UTF-16 units; counting
 * code points keeps the cut where ComputeHorde makes it and never splits a surrogate pair.
 */
export function truncateOutput(text: string): string {
  // Fewer UTF-16 units than the limit means fewer code points too: the common case costs nothing.
  if (text.length <= MAX_OUTPUT_CHARS) return text;
  let codePoints = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    codePoints++;
  }
  if (codePoints <= MAX_OUTPUT_CHARS) return text;
  return `${headCodePoints(text, KEEP_EACH_END)} ... ${tailCodePoints(text, KEEP_EACH_END)}`;
}

function headCodePoints(text: string, count: number): string {
  let i = 0;
  for (let n = 0; n < count && i < text.length; n++) {
    const unit = text.charCodeAt(i);
    i += unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLow(text.charCodeAt(i + 1)) ? 2 : 1;
  }
  return text.slice(0, i);
}

function tailCodePoints(text: string, count: number): string {
  let i = text.length;
  for (let n = 0; n < count && i > 0; n++) {
    const unit = text.charCodeAt(i - 1);
    i -= isLow(unit) && i - 2 >= 0 && isHigh(text.charCodeAt(i - 2)) ? 2 : 1;
  }
  return text.slice(i);
}

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
