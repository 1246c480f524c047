/**
 * A shard's queue: a growable ring of parallel arrays (series ref, value, timestamp, start
 * timestamp, descriptor, native histogram, weight, write ticket), about 40 bytes per queued sample plus the
 * series' labels, which are shared (see test/bench/remote-write-bench.ts). Struct-of-arrays, not
 * one object per sample: queuing was the largest cost of the sender path before.
 */
import type { HistogramValue, MetricDescriptor } from '../../core/metric-model.ts';
import type { Batch } from './batch.ts';
import { histogramBytes } from './native-histogram.ts';
import type { SeriesRef } from './series-catalog.ts';
import type { Ticket } from './settlement.ts';

const INITIAL_RING = 1024;

export class SampleRing {
  private refs: (SeriesRef | undefined)[] = new Array<SeriesRef | undefined>(INITIAL_RING);
  private values = new Float64Array(INITIAL_RING);
  private timestamps = new Float64Array(INITIAL_RING);
  private starts = new Float64Array(INITIAL_RING);
  private metrics: (MetricDescriptor | undefined)[] = new Array<MetricDescriptor | undefined>(INITIAL_RING);
  private histograms: (HistogramValue | undefined)[] = new Array<HistogramValue | undefined>(INITIAL_RING);
  private weights = new Uint32Array(INITIAL_RING);
  private tickets: (Ticket | undefined)[] = new Array<Ticket | undefined>(INITIAL_RING);
  private head = 0;
  private count = 0;
  /** Estimated request bytes of the queued samples. */
  private byteCount = 0;

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** The ticket of the oldest queued sample. */
  get oldestTicket(): Ticket | undefined {
    return this.count === 0 ? undefined : this.tickets[this.head];
  }

  push(
    ref: SeriesRef,
    value: number,
    ts: number,
    start: number,
    metric: MetricDescriptor | undefined,
    weight: number,
    ticket: Ticket,
    histogram?: HistogramValue,
  ): void {
    if (this.count === this.refs.length) this.grow();
    const at = (this.head + this.count) % this.refs.length;
    this.refs[at] = ref;
    this.values[at] = value;
    this.timestamps[at] = ts;
    this.starts[at] = start;
    this.metrics[at] = metric;
    this.histograms[at] = histogram;
    this.weights[at] = weight;
    this.tickets[at] = ticket;
    this.count++;
    this.byteCount += this.bytesAt(at);
  }

  /**
   * Moves the oldest samples, up to `maxSamples` and (after the first) `maxBytes`, into `batch`.
   * The sizes are kept up to date inside the loop, not after it: V8 compiles this function
   * on-stack in its first long loop, when nothing after the loop has run yet, and that code
   * deoptimised at the loop's exit on every later call that entered it (60 times in a 1M run).
   */
  takeInto(batch: Batch, maxSamples: number, maxBytes: number): void {
    const cap = this.refs.length;
    let n = 0;
    let bytes = 0;
    batch.size = 0;
    while (this.count > 0 && n < maxSamples) {
      const i = this.head;
      const entryBytes = this.bytesAt(i);
      if (n > 0 && bytes + entryBytes > maxBytes) break;
      bytes += entryBytes;
      batch.refs[n] = this.refs[i];
      batch.values[n] = this.values[i]!;
      batch.timestamps[n] = this.timestamps[i]!;
      batch.starts[n] = this.starts[i]!;
      batch.metrics[n] = this.metrics[i];
      batch.histograms[n] = this.histograms[i];
      batch.weights[n] = this.weights[i]!;
      batch.tickets[n] = this.tickets[i];
      this.clear(i);
      this.head = (i + 1) % cap;
      this.count--;
      this.byteCount -= entryBytes;
      batch.size = ++n;
    }
  }

  /** Removes the oldest sample, returning its ticket and weight (drop_oldest). */
  dropOldest(): { ticket: Ticket; weight: number } | undefined {
    if (this.count === 0) return undefined;
    const i = this.head;
    const ticket = this.tickets[i]!;
    const weight = this.weights[i]!;
    this.byteCount -= this.bytesAt(i);
    this.clear(i);
    this.head = (i + 1) % this.refs.length;
    this.count--;
    return { ticket, weight };
  }

  /** Samples of `ticket` still queued (only used on the error path). */
  weightFor(ticket: Ticket): number {
    let n = 0;
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % this.refs.length;
      if (this.tickets[i] === ticket) n += this.weights[i]!;
    }
    return n;
  }

  /** Estimated request bytes of entry `i`: its series' labels and sample, or its histogram. */
  private bytesAt(i: number): number {
    const histogram = this.histograms[i];
    return this.refs[i]!.bytes + (histogram === undefined ? 0 : histogramBytes(histogram));
  }

  /** Lets a series go if this was its last queued sample. */
  private clear(i: number): void {
    this.refs[i] = undefined;
    this.tickets[i] = undefined;
    this.metrics[i] = undefined;
    this.histograms[i] = undefined;
  }

  /** Doubles a full ring, unrolling it so the oldest entry is at 0. */
  private grow(): void {
    const cap = this.refs.length;
    const next = cap * 2;
    const refs = new Array<SeriesRef | undefined>(next);
    const values = new Float64Array(next);
    const timestamps = new Float64Array(next);
    const starts = new Float64Array(next);
    const metrics = new Array<MetricDescriptor | undefined>(next);
    const histograms = new Array<HistogramValue | undefined>(next);
    const weights = new Uint32Array(next);
    const tickets = new Array<Ticket | undefined>(next);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % cap;
      refs[k] = this.refs[i];
      values[k] = this.values[i]!;
      timestamps[k] = this.timestamps[i]!;
      starts[k] = this.starts[i]!;
      metrics[k] = this.metrics[i];
      histograms[k] = this.histograms[i];
      weights[k] = this.weights[i]!;
      tickets[k] = this.tickets[i];
    }
    this.refs = refs;
    this.values = values;
    this.timestamps = timestamps;
    this.starts = starts;
    this.metrics = metrics;
    this.histograms = histograms;
    this.weights = weights;
    this.tickets = tickets;
    this.head = 0;
  }
}
