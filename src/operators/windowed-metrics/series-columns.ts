import type { Aggregator } from '../aggregations/aggregator.ts';

/**
 * The numbers of one series group's stage-2 series, a row each in one Float64Array: when the
 * series' newest data window ended, each metric's running-total start (NaN: none yet), and the
 * accumulators of its cumulative plain-number kinds (counters, histograms), where each series
 * had a Float64Array of its own. A counter's total then cost ~210 B (the typed array, its
 * ArrayBuffer and the array holding it) and its start and end ~60 B more; its row is 24 B
 * (`test/bench/state-bench.ts`).
 *
 * Kinds read and merge accumulators as Float64Arrays: `load` copies a row's numbers into a
 * scratch array per metric, `store` copies them back.
 */
export class SeriesColumns {
  /** Per aggregator, where its accumulator starts in a row, or -1 when the series keeps it as an object. */
  private readonly accAt: readonly number[];
  private readonly scratch: readonly (Float64Array | undefined)[];
  /** A new series' row: no data yet (-Infinity), no starts (NaN), each accumulator as `create()` makes it. */
  private readonly fresh: Float64Array;
  private readonly stride: number;
  private data: Float64Array;
  /** Rows ever handed out; those released wait in `free` for the next series. */
  private rows = 0;
  private free: number[] = [];

  constructor(aggregators: readonly Aggregator[]) {
    let at = 1 + aggregators.length;
    const accAt: number[] = [];
    const scratch: (Float64Array | undefined)[] = [];
    for (const aggregator of aggregators) {
      const acc = aggregator.cumulative && aggregator.plainNumbers === true ? aggregator.create() : undefined;
      if (acc instanceof Float64Array) {
        accAt.push(at);
        scratch.push(acc);
        at += acc.length;
      } else {
        accAt.push(-1);
        scratch.push(undefined);
      }
    }
    this.accAt = accAt;
    this.scratch = scratch;
    this.stride = at;
    this.fresh = new Float64Array(at).fill(Number.NaN);
    this.fresh[0] = Number.NEGATIVE_INFINITY;
    scratch.forEach((acc, m) => acc && this.fresh.set(acc, accAt[m]!));
    this.data = new Float64Array(64 * at);
  }

  /** Is metric `m`'s accumulator in the row (true) or an object of the series' own? */
  inRow(m: number): boolean {
    return this.accAt[m]! >= 0;
  }

  /** A row for a new series: no data yet, no starts, zero accumulators. */
  allocate(): number {
    const slot = this.free.length > 0 ? this.free.pop()! : this.rows++;
    const stride = this.stride;
    if ((slot + 1) * stride > this.data.length) {
      // 1.5× keeps the unused tail at a fifth of the rows on average, against a third when doubling.
      const grown = new Float64Array(Math.ceil(((slot + 1) * 3) / 2) * stride);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(this.fresh, slot * stride);
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  /** Every row free, the storage back to its first size. */
  clear(): void {
    this.rows = 0;
    this.free = [];
    this.data = new Float64Array(64 * this.stride);
  }

  lastDataEnd(slot: number): number {
    return this.data[slot * this.stride]!;
  }

  setLastDataEnd(slot: number, end: number): void {
    this.data[slot * this.stride] = end;
  }

  start(slot: number, m: number): number | undefined {
    const start = this.data[slot * this.stride + 1 + m]!;
    return Number.isNaN(start) ? undefined : start;
  }

  setStart(slot: number, m: number, start: number | undefined): void {
    this.data[slot * this.stride + 1 + m] = start ?? Number.NaN;
  }

  /** Metric `m`'s accumulator of the row, in a scratch array reused by the next `load` of `m`. */
  load(slot: number, m: number): Float64Array {
    const acc = this.scratch[m]!;
    const at = slot * this.stride + this.accAt[m]!;
    for (let i = 0; i < acc.length; i++) acc[i] = this.data[at + i]!;
    return acc;
  }

  /** Writes `acc`'s numbers into the row (as many as the row holds: the kind's own width). */
  store(slot: number, m: number, acc: Float64Array): void {
    const at = slot * this.stride + this.accAt[m]!;
    const width = this.scratch[m]!.length;
    for (let i = 0; i < width; i++) this.data[at + i] = i < acc.length ? acc[i]! : 0;
  }
}
