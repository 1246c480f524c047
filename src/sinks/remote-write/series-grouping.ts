/**
 * Groups batch entries by series for one request: series in first-seen order, each series'
 * points ordered by timestamp (stable). A counting sort over a Map reused from request to
 * request, owned by one encoder: nothing is marked on the series refs and no state is shared
 * between senders.
 */
import type { Batch } from './batch.ts';
import type { SeriesRef } from './series-catalog.ts';

export class SeriesGrouping {
  private readonly groupOf = new Map<SeriesRef, number>();
  private readonly groups: (SeriesRef | undefined)[] = [];
  private readonly counts: Uint32Array;
  private readonly starts: Uint32Array;
  private readonly order: Uint32Array;
  private groupCount = 0;

  constructor(capacity: number) {
    this.counts = new Uint32Array(capacity);
    this.starts = new Uint32Array(capacity);
    this.order = new Uint32Array(capacity);
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
    let offset = 0;
    for (let g = 0; g < groupCount; g++) {
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
      const slice = this.points(g);
      if (!ascending(slice, timestamps)) sortByTimestamp(slice, timestamps);
    }
    this.groupCount = groupCount;
    groupOf.clear(); // let series go between requests
  }

  get size(): number {
    return this.groupCount;
  }

  series(g: number): SeriesRef {
    return this.groups[g]!;
  }

  /** Batch indices of group `g`'s points, in timestamp order. */
  points(g: number): Uint32Array {
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
