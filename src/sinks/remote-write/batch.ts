/**
 * One shard's batch in flight: parallel arrays sized to batch.max_samples and reused for every
 * request. Entries [lo, hi) of a batch are what one request (or one bisected half) carries.
 */
import type { MetricDescriptor } from '../../core/metric-model.ts';
import type { SeriesRef } from './series-catalog.ts';
import type { Ticket } from './settlement.ts';

export class Batch {
  readonly refs: (SeriesRef | undefined)[];
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
  /** Start timestamp of a cumulative series, NaN when none. */
  readonly starts: Float64Array;
  readonly metrics: (MetricDescriptor | undefined)[];
  /** Input samples an entry stands for (> 1 for folded overflow samples). */
  readonly weights: Uint32Array;
  readonly tickets: (Ticket | undefined)[];
  size = 0;

  constructor(readonly capacity: number) {
    this.refs = new Array<SeriesRef | undefined>(capacity);
    this.values = new Float64Array(capacity);
    this.timestamps = new Float64Array(capacity);
    this.starts = new Float64Array(capacity);
    this.metrics = new Array<MetricDescriptor | undefined>(capacity);
    this.weights = new Uint32Array(capacity);
    this.tickets = new Array<Ticket | undefined>(capacity);
  }

  ref(i: number): SeriesRef {
    return this.refs[i]!;
  }

  /** Input samples of entries [lo, hi). */
  weightOf(lo: number, hi: number): number {
    let w = 0;
    for (let i = lo; i < hi; i++) w += this.weights[i]!;
    return w;
  }

  /** Drops the references of entries [lo, hi), so settled series and tickets can be collected. */
  release(lo: number, hi: number): void {
    for (let i = lo; i < hi; i++) {
      this.refs[i] = undefined;
      this.tickets[i] = undefined;
      this.metrics[i] = undefined;
    }
  }
}
