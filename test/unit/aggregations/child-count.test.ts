import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/core/types.ts';
import { InvalidInput } from '../../../src/operators/aggregations/aggregator.ts';
import { ChildCountAggregator, type ChildCountState } from '../../../src/operators/aggregations/child-count.ts';
import { emitSamples } from './flattened.ts';

const BUCKETS = [1, 2, 4];

function aggregator(maxWaitMs = 30_000): ChildCountAggregator {
  return new ChildCountAggregator('calls', 'role', 'key', BUCKETS, maxWaitMs);
}

/** Adds [key, role, event time] records. */
function fold(agg: ChildCountAggregator, acc: ChildCountState, records: readonly (readonly [string, number, number])[]): ChildCountState {
  for (const [key, role, t] of records) {
    const value = agg.read({ key, role });
    if (value instanceof InvalidInput) throw new Error(value.detail);
    agg.add(acc, value, t);
  }
  return acc;
}

/** The emitted histogram as { le → cumulative count, sum, count }, or null when nothing was emitted. */
function emitted(agg: ChildCountAggregator, acc: ChildCountState, at: number): Record<string, number> | null {
  const out = emitSamples(agg, acc, at, 10);
  if (out.length === 0) return null;
  const key = (s: Sample) => s.labels.find((l) => l.name === 'le')?.value ?? s.labels[0]!.value.replace('calls_', '');
  return Object.fromEntries(out.map((s) => [key(s), s.value]));
}

describe('child_count: children per parent, joined by key in event time', () => {
  it('observes each parent once with its number of children, including a parent with none', () => {
    const agg = aggregator();
    const acc = fold(agg, agg.create(), [
      ['a', 0, 1_000], ['a', 0, 2_000], ['a', 0, 3_000], ['a', 1, 4_000], // 3 children
      ['b', 1, 5_000], // none
      ['c', 0, 6_000], ['c', 1, 7_000], // 1
    ]);
    expect(emitted(agg, acc, 10_000)).toEqual({ '1': 2, '2': 2, '4': 3, '+Inf': 3, sum: 4, count: 3 });
    expect(acc.pending.size).toBe(0);
    // Nothing new: the cumulative histogram is repeated, not observed again.
    expect(emitted(agg, acc, 20_000)).toEqual({ '1': 2, '2': 2, '4': 3, '+Inf': 3, sum: 4, count: 3 });
  });

  it('keeps children waiting across window ends until their parent arrives (children end first)', () => {
    const agg = aggregator();
    const acc = fold(agg, agg.create(), [['a', 0, 8_000], ['a', 0, 9_000]]);
    expect(emitted(agg, acc, 10_000)).toBeNull(); // no parent yet: nothing observed, no series yet
    const pane = fold(agg, agg.create(), [['a', 0, 11_000], ['a', 1, 12_000]]);
    agg.merge(acc, pane);
    expect(emitted(agg, acc, 20_000)).toEqual({ '1': 0, '2': 0, '4': 1, '+Inf': 1, sum: 3, count: 1 });
  });

  it('drops children whose parent does not come within max_wait, and children after their parent was observed', () => {
    const agg = aggregator(15_000);
    const acc = fold(agg, agg.create(), [['orphan', 0, 1_000], ['p', 1, 2_000]]);
    expect(emitted(agg, acc, 10_000)).toEqual({ '1': 1, '2': 1, '4': 1, '+Inf': 1, sum: 0, count: 1 });
    expect([...acc.pending.keys()]).toEqual(['orphan']); // 1 000 ≥ 10 000 − 15 000: still waiting
    agg.merge(acc, fold(agg, agg.create(), [['p', 0, 19_000]])); // late child of an observed parent
    emitted(agg, acc, 20_000);
    expect([...acc.pending.keys()]).toEqual(['p']); // orphan expired (1 000 < 5 000)
    emitted(agg, acc, 40_000);
    expect(acc.pending.size).toBe(0);
    expect(emitted(agg, acc, 50_000)).toEqual({ '1': 1, '2': 1, '4': 1, '+Inf': 1, sum: 0, count: 1 });
  });

  it('merges partials in any order and survives the wire (checkpoints, repartition) exactly', () => {
    const agg = aggregator();
    const records: [string, number, number][] = [];
    for (let k = 0; k < 20; k++) {
      for (let c = 0; c < k % 7; c++) records.push([`k${k}`, 0, 1_000 + c]);
      records.push([`k${k}`, 1, 2_000]);
    }
    const whole = emitted(agg, fold(agg, agg.create(), records), 10_000);
    const parts = [0, 1, 2].map((p) => fold(agg, agg.create(), records.filter((_, i) => i % 3 === p)));
    const merged = agg.create();
    for (const part of [parts[2]!, parts[0]!, parts[1]!]) agg.merge(merged, agg.decode(JSON.parse(JSON.stringify(agg.encode(part)))));
    expect(emitted(agg, merged, 10_000)).toEqual(whole);
    expect(whole!['count']).toBe(20);
  });

  it('rejects a record without a join key or with a non-numeric role', () => {
    const agg = aggregator();
    expect(agg.read({ role: 1 })).toBeInstanceOf(InvalidInput);
    expect(agg.read({ key: 'a', role: 'parent' })).toBeInstanceOf(InvalidInput);
  });
});
