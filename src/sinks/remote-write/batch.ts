/**
 * One shard's batch in flight: parallel arrays sized to batch.max_samples and reused for every
 * request. Entries [lo, hi) of a batch are what one request (or one bisected half) carries.
 */
import type { HistogramValue, MetricDescriptor } from '../../core/metric-model.ts';
import type { SeriesRef } from './series-catalog.ts';
import type { Ticket } from './settlement.ts';

export class Batch {
  readonly refs: (SeriesRef | undefined)[];
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
  /** Start timestamp of a cumulative series, NaN when none. */
  readonly starts: Float64Array;
  readonly metrics: (MetricDescriptor | undefined)[];
  /** A native histogram (remote-write 2.0, custom buckets), sent instead of the value; undefined for a float sample. */
  readonly histograms: (HistogramValue | undefined)[];
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
    this.histograms = new Array<HistogramValue | undefined>(capacity);
    this.weights = new Uint32Array(capacity);
    this.tickets = new Array<Ticket | undefined>(capacity);
  }

  ref(i: number): SeriesRef {
    return this.refs[i]!;
  }

  /** Native histograms among entries [lo, hi). */
  histogramsIn(lo: number, hi: number): number {
    let n = 0;
    for (let i = lo; i < hi; i++) if (this.histograms[i] !== undefined) n++;
    return n;
  }

  /** Input samples of entries [lo, hi). */
  weightOf(lo: number, hi: number): number {
    let w = 0;
    for (let i = lo; i < hi; i++) w += this.weights[i]!;
    return w;
  }

  /**
   * When entries [lo, hi) hold between 2 and `maxLayers` distinct timestamps: orders them by
   * timestamp (stably, so each series keeps its order) and returns where the oldest timestamp's
   * entries end. Otherwise (one timestamp, or many) leaves them as they are and returns undefined.
   */
  oldestLayer(lo: number, hi: number, maxLayers: number): number | undefined {
    const times = Array.from(this.timestamps.subarray(lo, hi)).sort((a, b) => a - b);
    let layers = 1;
    for (let i = 1; i < times.length && layers <= maxLayers; i++) if (times[i] !== times[i - 1]) layers++;
    if (layers < 2 || layers > maxLayers) return undefined;
    const order = Array.from({ length: hi - lo }, (_, i) => lo + i).sort((a, b) => this.timestamps[a]! - this.timestamps[b]! || a - b);
    const permute = <T>(array: { [i: number]: T }) => {
      const copy = order.map((i) => array[i]!);
      for (let i = 0; i < copy.length; i++) array[lo + i] = copy[i]!;
    };
    permute(this.refs);
    permute(this.values);
    permute(this.timestamps);
    permute(this.starts);
    permute(this.metrics);
    permute(this.histograms);
    permute(this.weights);
    permute(this.tickets);
    let end = lo + 1;
    while (end < hi && this.timestamps[end] === this.timestamps[lo]) end++;
    return end;
  }

  /**
   * When entries [lo, hi) come from between 2 and `maxRuns` runs of one write each (one ticket):
   * where each run starts, then `hi`. Otherwise (one write, or many) undefined.
   */
  writeRuns(lo: number, hi: number, maxRuns: number): number[] | undefined {
    const starts = [lo];
    for (let i = lo + 1; i < hi; i++) {
      if (this.tickets[i] === this.tickets[i - 1]) continue;
      if (starts.length === maxRuns) return undefined;
      starts.push(i);
    }
    if (starts.length < 2) return undefined;
    starts.push(hi);
    return starts;
  }

  /** Drops the references of entries [lo, hi), so settled series and tickets can be collected. */
  release(lo: number, hi: number): void {
    for (let i = lo; i < hi; i++) {
      this.refs[i] = undefined;
      this.tickets[i] = undefined;
      this.metrics[i] = undefined;
      this.histograms[i] = undefined;
    }
  }
}
