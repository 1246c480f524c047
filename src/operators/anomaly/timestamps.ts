/**
 * Event time of a NAB-style timestamp (`2015-02-26 21:42:53`, optionally with fractions or a zone)
 * in ms since the epoch; a timestamp without a zone is read as UTC, so the hour-of-day profile does
 * not depend on the machine's time zone. NaN when unreadable.
 */
export function parseTimestamp(text: string): number {
  const iso = text.trim().replace(' ', 'T');
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
}
