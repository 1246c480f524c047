import { describe, expect, it } from 'vitest';
import { PartitionClock } from '../../src/runtime/partition-clock.ts';

const options = { maxOutOfOrdernessMs: 5_000, allowedLatenessMs: 1_000 };

describe('partition clock', () => {
  it('is the newest event time minus out-of-orderness, and never moves back', () => {
    const clock = new PartitionClock(options);
    expect(clock.watermark).toBe(Number.NEGATIVE_INFINITY);
    clock.observe(100_000);
    clock.observe(40_000);
    expect(clock.watermark).toBe(95_000);
  });

  it('classifies lateness by allowed lateness below the watermark', () => {
    const clock = new PartitionClock(options);
    clock.observe(100_000);
    expect(clock.isLate(94_000)).toBe(false); // 100s - 5s - 1s
    expect(clock.isLate(93_999)).toBe(true);
  });

  it('follows the wall clock while idle, and makes older records late afterwards', () => {
    const clock = new PartitionClock(options);
    clock.observe(100_000);
    clock.idleAt(200_000);
    expect(clock.watermark).toBe(195_000);
    expect(clock.isLate(193_999)).toBe(true);
    clock.observe(300_000);
    expect(clock.watermark).toBe(295_000);
  });

  it('survives the offset-metadata round trip, so a replay decides the same way', () => {
    const clock = new PartitionClock(options);
    clock.observe(100_000);
    clock.idleAt(50_000);
    const restored = new PartitionClock(options);
    restored.restore(clock.serialize());
    expect(restored.watermark).toBe(95_000);
    expect(restored.isLate(93_999)).toBe(true);
    restored.restore('not json');
    expect(restored.watermark).toBe(Number.NEGATIVE_INFINITY);
  });

  it('starts fresh from the metadata of a partition never committed, or anything that is not a clock', () => {
    // Stage 1 keeps 'null' as the committed clock of a partition that has no commit yet, and
    // restores it when a transaction fails: that must not throw.
    for (const metadata of [null, 'null', '', '""', '42', '[]', 'true', '{"m":"x","w":{}}', '{"m":null}']) {
      const clock = new PartitionClock(options);
      clock.observe(100_000);
      clock.idleAt(500_000);
      expect(() => clock.restore(metadata), String(metadata)).not.toThrow();
      expect(clock.watermark, String(metadata)).toBe(Number.NEGATIVE_INFINITY);
      expect(clock.isLate(0), String(metadata)).toBe(false);
    }
  });

  it('restores one time without the other', () => {
    const clock = new PartitionClock(options);
    clock.restore('{"v":1,"m":null,"w":70000}');
    expect(clock.watermark).toBe(70_000);
  });
});
