/**
 * Native histogram entries written the classic way (`_bucket{le}`, `_sum`, `_count`), for a
 * request that goes out as remote-write 1.0 although its histograms were queued whole: a tenant
 * on `protocol: auto` with `histograms: native_custom_buckets` whose receiver turned out to speak
 * 1.0 only. The same flattening as for classic tenants (../prometheus/flatten.ts), so a receiver
 * sees exactly what it would have seen without the option. Owned by one 1.0 encoder.
 */
import type { HistogramValue, MetricDescriptor } from '../../core/metric-model.ts';
import { isStaleMarker } from '../../core/stale-marker.ts';
import type { Label, Sample } from '../../core/types.ts';
import { SampleFlattener } from '../prometheus/flatten.ts';
import type { Batch } from './batch.ts';
import type { SeriesRef } from './series-catalog.ts';
import { labelValue } from './series.ts';
import type { WriteRequestWriter } from './wire.ts';

export class ClassicHistograms {
  private readonly flattener = new SampleFlattener();
  /** Per series, its labels without `__name__` (the point form the flattener takes), kept so its label cache hits. */
  private readonly bases = new WeakMap<SeriesRef, readonly Label[]>();
  private readonly samples: Sample[] = [];
  private readonly value = new Float64Array(1);
  private readonly timestamp = new Float64Array(1);
  /** Indices into the one-point arrays above. */
  private readonly first = new Uint32Array(1);

  /** Writes the histogram at batch entry `i` of series `ref` as one 1.0 TimeSeries per classic series. */
  write(writer: WriteRequestWriter, ref: SeriesRef, batch: Batch, i: number, histogram: HistogramValue): void {
    const metric = batch.metrics[i] ?? descriptorOf(ref, histogram);
    const timestampMs = batch.timestamps[i]!;
    const stale = isStaleMarker(batch.values[i]!);
    const samples = this.samples;
    samples.length = 0;
    this.flattener.flatten([{ metric, labels: this.baseOf(ref), timestampMs, value: stale ? undefined : histogram }], samples);
    this.timestamp[0] = timestampMs;
    for (const sample of samples) {
      this.value[0] = sample.value;
      writer.addSeries(sample.labels, this.value, this.timestamp, this.first, 1);
    }
    samples.length = 0;
  }

  private baseOf(ref: SeriesRef): readonly Label[] {
    let base = this.bases.get(ref);
    if (base === undefined) this.bases.set(ref, (base = ref.labels.filter((l) => l.name !== '__name__')));
    return base;
  }
}

/** The sender queues every histogram with its descriptor; this only keeps a bug from losing one. */
function descriptorOf(ref: SeriesRef, histogram: HistogramValue): MetricDescriptor {
  return { name: labelValue(ref.labels, '__name__') ?? '', type: 'histogram', unit: '', help: '', bounds: histogram.bounds };
}
