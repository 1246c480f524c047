import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../src/runtime/offset-tracker.ts';
import { PartitionWatermarks } from '../../src/runtime/partition-watermarks.ts';

const options = { maxOutOfOrdernessMs: 5_000, allowedLatenessMs: 1_000, idleTimeoutMs: 10_000 };

describe('partition watermarks', () => {
  it('is the minimum over active partitions of max event time minus out-of-orderness', () => {
    const w = new PartitionWatermarks(options);
    w.assign(['t/0', 't/1'], 0);
    w.observe('t/0', 100_000, 0);
    expect(w.current(0)).toBe(Number.NEGATIVE_INFINITY); // t/1 has shown nothing and is not idle
    w.observe('t/1', 50_000, 0);
    expect(w.current(0)).toBe(45_000);
    w.observe('t/1', 40_000, 0); // out of order: does not move its max back
    expect(w.current(0)).toBe(45_000);
  });

  it('classifies lateness by the record\'s own partition', () => {
    const w = new PartitionWatermarks(options);
    w.assign(['t/0', 't/1'], 0);
    w.observe('t/0', 100_000, 0);
    expect(w.observe('t/0', 94_000, 0)).toBe('on_time'); // 100s - 5s - 1s = 94s
    expect(w.observe('t/0', 93_999, 0)).toBe('late');
    expect(w.observe('t/1', 10_000, 0)).toBe('on_time'); // t/1's own watermark is far behind
  });

  it('ignores a caught-up idle partition, and follows the wall clock when all are idle', () => {
    const w = new PartitionWatermarks(options);
    w.assign(['t/0', 't/1'], 0);
    w.observe('t/0', 100_000, 0);
    w.setCaughtUp('t/1', true);
    expect(w.current(9_999)).toBe(Number.NEGATIVE_INFINITY);
    expect(w.current(10_000)).toBe(95_000);
    w.setCaughtUp('t/0', true);
    expect(w.current(200_000)).toBe(195_000);
  });

  it('does not treat a partition with a backlog as idle', () => {
    const w = new PartitionWatermarks(options);
    w.assign(['t/0'], 0);
    w.setCaughtUp('t/0', false);
    expect(w.current(60_000)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('never moves back', () => {
    const w = new PartitionWatermarks(options);
    w.assign(['t/0'], 0);
    w.setCaughtUp('t/0', true);
    expect(w.current(100_000)).toBe(95_000);
    w.observe('t/0', 20_000, 100_000); // active again, far behind
    expect(w.current(100_000)).toBe(95_000);
  });
});

describe('offset tracker', () => {
  it('commits only past records whose windows have fired', () => {
    const t = new OffsetTracker();
    t.begin('t/0', 10);
    t.inWindow('t/0', 10, 0);
    t.inWindow('t/0', 11, 10_000);
    t.inWindow('t/0', 12, 0);
    t.done('t/0', 14); // offset 13 went to the dead-letter topic
    expect(t.safeOffsets(() => false).get('t/0')).toBe(10);
    expect(t.safeOffsets((start) => start === 0).get('t/0')).toBe(11);
    expect(t.safeOffsets(() => true).get('t/0')).toBe(14);
  });

  it('holds a batch until its dead letters are written', () => {
    const t = new OffsetTracker();
    t.begin('t/0', 5);
    expect(t.safeOffsets(() => true).get('t/0')).toBe(5);
    t.done('t/0', 9);
    expect(t.safeOffsets(() => true).get('t/0')).toBe(9);
    expect(t.position('t/0')).toBe(9);
  });
});
