import { describe, expect, it } from 'vitest';
import { Batch } from '../../../src/sinks/remote-write/batch.ts';
import type { SeriesRef } from '../../../src/sinks/remote-write/series-catalog.ts';
import { encodedLabels } from '../../../src/sinks/remote-write/wire.ts';
import { SeriesGrouping } from '../../../src/sinks/remote-write/series-grouping.ts';
import { seriesKey } from '../../../src/sinks/remote-write/series.ts';
import { labels } from './fixtures.ts';

function ref(name: string, extra: Record<string, string>): SeriesRef {
  const l = labels(name, extra);
  return { labels: l, key: seriesKey(l), shard: 0, labelBytes: encodedLabels(l), bytes: 64, group: undefined, overflow: false, active: true, lastSeenMs: 0, order: undefined };
}

function batchOf(entries: readonly { ref: SeriesRef; ts: number }[]): Batch {
  const batch = new Batch(entries.length);
  entries.forEach((e, i) => {
    batch.refs[i] = e.ref;
    batch.timestamps[i] = e.ts;
    batch.values[i] = i;
    batch.weights[i] = 1;
  });
  batch.size = entries.length;
  return batch;
}

/** [series name label values..., batch indices of its points] per position, as the encoders read them. */
function read(grouping: SeriesGrouping): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let p = 0; p < grouping.size; p++) out.push([grouping.series(p).labels.map((l) => l.value).join(' '), Array.from(grouping.points(p))]);
  grouping.release();
  return out;
}

const count429 = ref('requests_total', { code: '429', model: 'm1' });
const count200 = ref('requests_total', { code: '200', model: 'm1' });
const bucketHigh = ref('latency_bucket', { le: '5', model: 'm1' });
const bucketLow = ref('latency_bucket', { le: '0.5', model: 'm1' });
const tokens = ref('tokens_total', { model: 'm1' });

describe('series grouping for one request', () => {
  it('puts series in key order (name first, then label by label) and each series\' points in timestamp order', () => {
    const batch = batchOf([
      { ref: tokens, ts: 20 },
      { ref: count429, ts: 20 },
      { ref: bucketHigh, ts: 20 },
      { ref: count200, ts: 20 },
      { ref: tokens, ts: 10 }, // earlier point after a later one
      { ref: bucketLow, ts: 20 },
    ]);
    const grouping = new SeriesGrouping(batch.size);
    grouping.group(batch, 0, batch.size);
    expect(read(grouping)).toEqual([
      ['latency_bucket 0.5 m1', [5]],
      ['latency_bucket 5 m1', [2]],
      ['requests_total 200 m1', [3]],
      ['requests_total 429 m1', [1]],
      ['tokens_total m1', [4, 0]],
    ]);
  });

  it('gives the same order for a repeated request, and re-sorts when the series behind the same first one change', () => {
    const grouping = new SeriesGrouping(8);
    const window = (ts: number, refs: SeriesRef[]) => batchOf(refs.map((r) => ({ ref: r, ts })));
    const first = window(10, [tokens, count429, bucketHigh]);
    grouping.group(first, 0, first.size);
    const once = read(grouping);
    const again = window(20, [tokens, count429, bucketHigh]);
    grouping.group(again, 0, again.size);
    expect(read(grouping)).toEqual(once);
    // Same first series, one series swapped for another and one added: a remembered order must not be reused.
    const changed = window(30, [tokens, count200, bucketHigh, bucketLow]);
    grouping.group(changed, 0, changed.size);
    expect(read(grouping).map(([name]) => name)).toEqual(['latency_bucket 0.5 m1', 'latency_bucket 5 m1', 'requests_total 200 m1', 'tokens_total m1']);
    const shorter = window(40, [tokens, count200]);
    grouping.group(shorter, 0, shorter.size);
    expect(read(grouping).map(([name]) => name)).toEqual(['requests_total 200 m1', 'tokens_total m1']);
  });

  it('groups a range [lo, hi) of the batch only', () => {
    const batch = batchOf([
      { ref: tokens, ts: 10 },
      { ref: count200, ts: 10 },
      { ref: bucketLow, ts: 10 },
      { ref: tokens, ts: 20 },
    ]);
    const grouping = new SeriesGrouping(batch.size);
    grouping.group(batch, 1, 3);
    expect(read(grouping)).toEqual([
      ['latency_bucket 0.5 m1', [2]],
      ['requests_total 200 m1', [1]],
    ]);
  });
});
