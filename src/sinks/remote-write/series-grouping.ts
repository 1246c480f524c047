/**
 * Groups batch entries by series for one request: series in key order (series-order.ts), each series' points
 * ordered by timestamp (stable). A counting sort over a Map reused from request to request,
 * owned by one encoder: nothing is marked on the series refs and no state is shared between
 * senders.
 *
 * Why label order: snappy finds repeats within a 64 KiB window, and series sorted by their
 * labels sit next to their near-twins (same name, same metadata, the same labels but the last
 * one or two), so most of each series is one back-reference. On the gateway workload (bench
 * part 5) that is 6 % fewer compressed bytes for 1.0 and 23 % for 2.0, whose metadata and
 * start timestamps then cost almost nothing, against first-seen order (base labels outermost,
 * the metric name alternating from series to series).
 */
import type { Batch } from './batch.ts';
import type { SeriesRef } from './series-catalog.ts';
import { SeriesOrder } from './series-order.ts';

export class SeriesGrouping {
  private readonly groupOf = new Map<SeriesRef, number>();
  private readonly groups: (SeriesRef | undefined)[] = [];
  private readonly counts: Uint32Array;
  private readonly starts: Uint32Array;
  private readonly order: Uint32Array;
  /** Position -> group, in key order. */
  private readonly rank: Uint32Array;
  private groupCount = 0;

  constructor(
    capacity: number,
    private readonly seriesOrder = new SeriesOrder(),
  ) {
    this.counts = new Uint32Array(capacity);
    this.starts = new Uint32Array(capacity);
    this.order = new Uint32Array(capacity);
    this.rank = new Uint32Array(capacity);
  }

  /** Groups entries [lo, hi) of `batch`; then read `size`, `series(g)` and `points(g)`. */
  group(batch: Batch, lo: number, hi: number): void {
    const groupOf = this.groupOf;
    const counts = this.counts;
    groupOf.clear();
    let groupCount = 0;
    for (let i = lo; i < hi; i++) {
      const ref = batch.ref(i);
      let g = groupOf.get(ref);
      if (g === undefined) {
        g = groupCount++;
        groupOf.set(ref, g);
        this.groups[g] = ref;
        counts[g] = 0;
      }
      counts[g]!++;
    }
    const rank = this.rank.subarray(0, groupCount);
    this.seriesOrder.sort(this.groups, rank);
    let offset = 0;
    for (let p = 0; p < groupCount; p++) {
      const g = rank[p]!;
      this.starts[g] = offset;
      offset += counts[g]!;
      counts[g] = 0;
    }
    for (let i = lo; i < hi; i++) {
      const g = groupOf.get(batch.ref(i))!;
      this.order[this.starts[g]! + counts[g]!] = i;
      counts[g]!++;
    }
    const timestamps = batch.timestamps;
    for (let g = 0; g < groupCount; g++) {
      const slice = this.pointsOf(g);
      if (!ascending(slice, timestamps)) sortByTimestamp(slice, timestamps);
    }
    this.groupCount = groupCount;
    groupOf.clear(); // let series go between requests
  }

  get size(): number {
    return this.groupCount;
  }

  /** The series at position `p` (0 ≤ p < size) in key order. */
  series(p: number): SeriesRef {
    return this.groups[this.rank[p]!]!;
  }

  /** Batch indices of the points of the series at position `p`, in timestamp order. */
  points(p: number): Uint32Array {
    return this.pointsOf(this.rank[p]!);
  }

  private pointsOf(g: number): Uint32Array {
    const start = this.starts[g]!;
    return this.order.subarray(start, start + this.counts[g]!);
  }

  /** Drops the series references after a request is encoded. */
  release(): void {
    for (let g = 0; g < this.groupCount; g++) this.groups[g] = undefined;
    this.groupCount = 0;
  }
}

function ascending(indices: Uint32Array, timestamps: Float64Array): boolean {
  for (let k = 1; k < indices.length; k++) {
    if (timestamps[indices[k]!]! < timestamps[indices[k - 1]!]!) return false;
  }
  return true;
}

/** Stable: equal timestamps keep their arrival order (the receiver decides about duplicates). */
function sortByTimestamp(indices: Uint32Array, timestamps: Float64Array): void {
  const sorted = Array.from(indices).sort((a, b) => timestamps[a]! - timestamps[b]! || a - b);
  indices.set(sorted);
}
