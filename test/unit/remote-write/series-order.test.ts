import { describe, expect, it } from 'vitest';
import type { SeriesRef } from '../../../src/sinks/remote-write/series-catalog.ts';
import { SeriesOrder } from '../../../src/sinks/remote-write/series-order.ts';
import { seriesRef } from './fixtures.ts';

/** The order by key string that the ranks stand for: a stable sort of first-seen positions. */
function byKeyString(groups: readonly SeriesRef[]): number[] {
  return groups.map((_, g) => g).sort((a, b) => (groups[a]!.key < groups[b]!.key ? -1 : groups[a]!.key > groups[b]!.key ? 1 : a - b));
}

function sorted(order: SeriesOrder, groups: readonly SeriesRef[]): number[] {
  const rank = new Uint32Array(groups.length);
  order.sort(groups, rank);
  return Array.from(rank);
}

/** A deterministic generator (xorshift), so a failure repeats. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('series order by rank', () => {
  it('orders each request by key, as a stable sort of the key strings does, while series arrive, repeat, end and come back', () => {
    const next = random(7);
    const order = new SeriesOrder();
    const live: SeriesRef[] = [];
    let made = 0;
    for (let request = 0; request < 400; request++) {
      // New series now and then (some with a key already ranked: a series admitted again is a new ref).
      for (let k = Math.floor(next() * 30); k > 0; k--) {
        const twin = live.length > 0 && next() < 0.1 ? live[Math.floor(next() * live.length)]! : undefined;
        const ref = twin ? seriesRef(twin.labels[0]!.value, Object.fromEntries(twin.labels.slice(1).map((l) => [l.name, l.value]))) : seriesRef(`m${Math.floor(next() * 5)}`, { model: `x${made++}` });
        live.push(ref);
      }
      // Some end (forgotten by the catalog; the ranking drops them when it prunes).
      for (const ref of live) if (next() < 0.01) ref.active = false;
      const groups = live.filter(() => next() < 0.5).sort(() => next() - 0.5);
      expect(sorted(order, groups), `request ${request}`).toEqual(byKeyString(groups));
    }
    expect(made).toBeGreaterThan(4_096); // past the prune threshold: pruning ran
  });

  it('keeps first-seen order between two refs of one series key', () => {
    const first = seriesRef('requests_total', { code: '200' });
    const again = seriesRef('requests_total', { code: '200' });
    const other = seriesRef('a_total', {});
    const order = new SeriesOrder();
    expect(sorted(order, [first, other])).toEqual([1, 0]);
    expect(sorted(order, [again, first, other])).toEqual([2, 0, 1]);
    expect(sorted(order, [first, again])).toEqual([0, 1]);
  });

  it('ranks an ended series anew when it is seen again after a prune', () => {
    const order = new SeriesOrder();
    const many = Array.from({ length: 5_000 }, (_, i) => seriesRef('m', { i: String(i).padStart(5, '0') }));
    sorted(order, many);
    for (const ref of many.slice(0, 4_990)) ref.active = false;
    const ended = many[0]!; // inactive, yet carried by this request (a stale marker)
    const fresh = seriesRef('m', { i: '00000' });
    expect(sorted(order, [many[4_999]!, fresh, ended, many[4_995]!])).toEqual([1, 2, 3, 0]);
    expect(ended.order?.owner).toBe(order);
  });
});
