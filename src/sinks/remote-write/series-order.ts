/**
 * The order a request's series are written in: by their keys (label names and values pair by
 * pair, as Prometheus sorts series), so that near-twins sit next to each other and snappy
 * turns most of each series into one back-reference (see series-grouping.ts for the figures).
 *
 * Sorting 2000 series by string keys costs about as much as encoding them, and in steady state
 * a shard sends the same series in the same first-seen order window after window. So the last
 * few orders are remembered, keyed by their first series and checked reference by reference
 * (O(n), no string compared); anything else is sorted afresh.
 */
import type { SeriesRef } from './series-catalog.ts';

interface Remembered {
  readonly firstSeen: SeriesRef[];
  readonly rank: Uint32Array;
}

/** Orders remembered: a tenant's shards each cut a window into a request or two. */
const REMEMBERED = 8;

export class SeriesOrder {
  private readonly remembered = new Map<SeriesRef, Remembered>();
  private groups: readonly (SeriesRef | undefined)[] = [];
  private readonly byKey = (a: number, b: number): number => {
    const x = this.groups[a]!.key;
    const y = this.groups[b]!.key;
    return x < y ? -1 : x > y ? 1 : 0;
  };

  /** Fills `rank` (length n) with the indices of groups[0, n) in key order. */
  sort(groups: readonly (SeriesRef | undefined)[], rank: Uint32Array): void {
    const n = rank.length;
    if (n === 0) return;
    const first = groups[0]!;
    const known = this.remembered.get(first);
    if (known !== undefined && sameSeries(known.firstSeen, groups, n)) {
      rank.set(known.rank);
      return;
    }
    for (let g = 0; g < n; g++) rank[g] = g;
    this.groups = groups;
    rank.sort(this.byKey);
    this.groups = [];
    this.remember(first, groups.slice(0, n) as SeriesRef[], rank.slice());
  }

  private remember(first: SeriesRef, firstSeen: SeriesRef[], rank: Uint32Array): void {
    this.remembered.delete(first);
    if (this.remembered.size >= REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(first, { firstSeen, rank });
  }
}

function sameSeries(firstSeen: readonly SeriesRef[], groups: readonly (SeriesRef | undefined)[], n: number): boolean {
  if (firstSeen.length !== n) return false;
  for (let g = 0; g < n; g++) if (firstSeen[g] !== groups[g]) return false;
  return true;
}
