import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../../src/cli/progress-bar.ts';
import { parseTime } from '../../../src/cli/replay.ts';

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { out: { isTTY, columns: 100, write: (text: string) => writes.push(text) }, writes };
}

describe('ProgressBar (sluice replay)', () => {
  it('redraws one line in place on a terminal, with rate and ETA, at most every 200 ms', () => {
    let now = 0;
    const { out, writes } = recorder(true);
    const bar = new ProgressBar(out, 1_000, 'records', () => now);
    now = 1_000;
    bar.update(250);
    now = 1_100;
    bar.update(260); // within 200 ms of the last draw: skipped
    now = 2_000;
    bar.update(500);
    bar.finish();
    expect(writes).toEqual([
      '\r\x1b[2K[##########------------------------------]  25% 250/1000 records  250/s  ETA 3s',
      '\r\x1b[2K[####################--------------------]  50% 500/1000 records  250/s  ETA 2s',
      '\n',
    ]);
  });

  it('prints a plain line per tenth when not a terminal, and none twice', () => {
    let now = 0;
    const { out, writes } = recorder(false);
    const bar = new ProgressBar(out, 200, 'records', () => now);
    for (let done = 0; done <= 200; done += 5) {
      now += 100;
      bar.update(done);
    }
    bar.finish();
    expect(writes).toHaveLength(11);
    expect(writes.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(writes.at(-1)).toBe('[####################] 100% 200/200 records  49/s  ETA done\n');
  });
});

describe('parseTime (replay --from / --to)', () => {
  it('reads RFC 3339, epoch milliseconds and durations ago; nothing else', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(parseTime('2026-11-29T12:00:00Z', now)).toBe(Date.parse('2026-11-29T12:00:00Z'));
    expect(parseTime('1796083200000', now)).toBe(1796083200000);
    expect(parseTime('24h', now)).toBe(now - 86_400_000);
    expect(parseTime('90m', now)).toBe(now - 5_400_000);
    expect(parseTime('yesterday', now)).toBeUndefined();
    expect(parseTime('2026-13-45', now)).toBeUndefined();
  });
});
