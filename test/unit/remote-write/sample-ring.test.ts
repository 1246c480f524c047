import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Batch } from '../../../src/sinks/remote-write/batch.ts';
import { SampleRing } from '../../../src/sinks/remote-write/sample-ring.ts';
import type { SeriesRef } from '../../../src/sinks/remote-write/series-catalog.ts';
import { encodedLabels } from '../../../src/sinks/remote-write/wire.ts';
import { Settlement } from '../../../src/sinks/remote-write/settlement.ts';
import type { WriteOutcome } from '../../../src/sinks/remote-write/settlement.ts';
import { labels } from './fixtures.ts';

const ref = (bytes: number): SeriesRef => ({
  labels: labels('m'),
  key: 'm',
  shard: 0,
  labelBytes: encodedLabels(labels('m')),
  bytes,
  group: undefined,
  overflow: false,
  active: true,
  lastSeenMs: 0,
  order: undefined,
});

describe('SampleRing', () => {
  it('keeps order across growth and wrap-around, and cuts batches by samples and bytes', () => {
    const settlement = new Settlement(pino({ level: 'silent' }), () => {});
    const ticket = settlement.issue(3_000, 0, undefined);
    const ring = new SampleRing();
    const small = ref(10);
    const batch = new Batch(5_000);
    for (let i = 0; i < 600; i++) ring.push(small, i, i, Number.NaN, undefined, 1, ticket);
    ring.takeInto(batch, 500, 1_000_000); // head moves to 500: the next pushes wrap around
    for (let i = 600; i < 3_000; i++) ring.push(small, i, i, i - 1, undefined, 1, ticket); // grows past 1024
    expect(ring.size).toBe(2_500);
    expect(ring.bytes).toBe(25_000);
    ring.takeInto(batch, 5_000, 995); // the byte bound: 99 samples of 10 bytes fit under 995
    expect(batch.size).toBe(99);
    expect(Array.from(batch.values.subarray(0, 3))).toEqual([500, 501, 502]);
    ring.takeInto(batch, 5_000, 1_000_000);
    expect(batch.size).toBe(2_401);
    expect(Array.from(batch.timestamps.subarray(0, 2))).toEqual([599, 600]);
    expect(Number.isNaN(batch.starts[0])).toBe(true);
    expect(batch.starts[1]).toBe(599);
    expect(batch.values[2_400]).toBe(2_999);
    expect(ring.size).toBe(0);
    expect(ring.bytes).toBe(0);
  });

  it('drops the oldest sample with its ticket and weight, and finds a ticket\'s queued weight', () => {
    const settlement = new Settlement(pino({ level: 'silent' }), () => {});
    const a = settlement.issue(2, 0, undefined);
    const b = settlement.issue(5, 0, undefined);
    const ring = new SampleRing();
    ring.push(ref(8), 1, 1, Number.NaN, undefined, 2, a);
    ring.push(ref(8), 2, 2, Number.NaN, undefined, 5, b);
    expect([ring.weightFor(a), ring.weightFor(b)]).toEqual([2, 5]);
    expect(ring.dropOldest()).toEqual({ ticket: a, weight: 2 });
    expect(ring.oldestTicket).toBe(b);
    expect(ring.bytes).toBe(8);
  });
});

describe('Settlement', () => {
  it('calls back once per write with its outcome, and flush waits only for writes issued before it', async () => {
    let progress = 0;
    const settlement = new Settlement(pino({ level: 'silent' }), () => progress++);
    const outcomes: WriteOutcome[] = [];
    const a = settlement.issue(3, 0, (o) => outcomes.push(o));
    const flushed = settlement.whenSettled();
    const b = settlement.issue(1, 0, (o) => outcomes.push(o));
    let done = false;
    void flushed.then(() => (done = true));
    settlement.settle(a, 2, 'delivered');
    settlement.settle(a, 1, 'filtered');
    await flushed;
    expect(done).toBe(true);
    expect(settlement.pending).toBe(1);
    settlement.settle(b, 1, 'failed');
    await Promise.resolve();
    expect(outcomes).toEqual([
      { delivered: 2, failed: 0, filtered: 1 },
      { delivered: 0, failed: 1, filtered: 0 },
    ]);
    expect(progress).toBe(2);
    await settlement.whenSettled(); // nothing open: resolves at once
  });
});
