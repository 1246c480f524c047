import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../src/sinks/remote-write/retry-after.ts';

const NOW = Date.UTC(2015, 9, 21, 7, 28, 0); // Wed, 21 Oct 2015 07:28:00 GMT

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', NOW)).toBe(30_000);
  });

  it('reads the obsolete RFC 850 and asctime forms (asctime is GMT)', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:28:05 GMT', NOW)).toBe(5_000);
    expect(parseRetryAfter('Wed Oct 21 07:28:10 2015', NOW)).toBe(10_000);
  });

  it('reads asctime as GMT whatever the local time zone', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(parseRetryAfter('Wed Oct 21 07:28:10 2015', NOW)).toBe(10_000);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('turns a date in the past into no delay', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', NOW)).toBe(0);
  });

  it('ignores absent and malformed values', () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined(); // Date.parse would read this as a date
    expect(parseRetryAfter('-3', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('Wed, 99 Foo 2015 07:28:30 GMT', NOW)).toBeUndefined();
  });
});
