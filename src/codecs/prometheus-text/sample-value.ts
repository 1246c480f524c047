import { DOT, isDigit, MINUS, PLUS } from './characters.ts';

// The numbers of a sample line: its value and its timestamp, read as Go's expfmt reads them.

/**
 * A sample value as Go's `strconv.ParseFloat` reads it (decimal, `NaN`, `Inf`, `+Inf`, `-Inf`,
 * `Infinity`, any case), or undefined. Out-of-range decimals (1e400) are refused, as Go does.
 */
export function parseSampleValue(text: string, start: number, end: number): number | undefined {
  const length = end - start;
  if (length === 0) return undefined;
  let i = start;
  let c = text.charCodeAt(i);
  const sign = c === PLUS || c === MINUS;
  if (sign) i++;
  c = text.charCodeAt(i);
  if (c === 0x4e || c === 0x6e || c === 0x49 || c === 0x69) {
    // N n I i: one of the named values
    if (end - i > 8) return undefined;
    const word = text.slice(i, end).toLowerCase();
    if (word === 'nan' && !sign) return Number.NaN;
    if (word === 'inf' || word === 'infinity') return text.charCodeAt(start) === MINUS ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    return undefined;
  }
  let digits = 0;
  while (i < end && isDigit(text.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  if (i < end && (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45)) {
    i++;
    if (i < end && (text.charCodeAt(i) === PLUS || text.charCodeAt(i) === MINUS)) i++;
    const exponentStart = i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === exponentStart) return undefined;
  }
  if (i !== end) return undefined;
  const value = Number(text.slice(start, end));
  return Number.isFinite(value) ? value : undefined;
}

/** An integer timestamp in ms (Go: `strconv.ParseInt`), within JavaScript's exact range. */
export function parseTimestamp(text: string, start: number, end: number): number | undefined {
  let i = start;
  const c = text.charCodeAt(i);
  if (c === PLUS || c === MINUS) i++;
  if (i === end) return undefined;
  while (i < end - 1 && text.charCodeAt(i) === 0x30) i++; // leading zeros do not count towards the length
  if (end - i > 16) return undefined;
  for (; i < end; i++) if (!isDigit(text.charCodeAt(i))) return undefined;
  const value = Number(text.slice(start, end));
  return Number.isSafeInteger(value) ? value : undefined;
}
