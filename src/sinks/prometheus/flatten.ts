import type { HistogramValue, MetricDescriptor, MetricPoint, MetricSink } from '../../core/metric-model.ts';
import { STALE_NAN } from '../../core/stale-marker.ts';
import type { Label, Sample } from '../../core/types.ts';
import type { SampleSink } from '../sink.ts';
import { staleHistogram } from './histogram-sample.ts';
import type { HistogramSample } from './histogram-sample.ts';

/**
 * Metric points as Prometheus series, the way remote-write v1 (and the text format) carry them:
 * a counter or gauge is one series of its name; a histogram is `_bucket{le}` (cumulative in `le`,
 * `+Inf` last), `_sum` and `_count`; a summary is `{quantile}`, `_sum` and `_count`. A stale point
 * (no value) marks every series of its point with Prometheus' stale NaN.
 *
 * `le` and `quantile` values are JavaScript's shortest round-trip form (`String(x)`), which is
 * Go's `strconv.FormatFloat(x, 'g', -1, 64)` for the bounds configs hold, as Prometheus client
 * libraries write them. Each sample carries its descriptor and, for cumulative kinds, its start.
 */
/**
 * Receives a point's Prometheus samples in order: the `k`-th is a sample of the point's `k`-th
 * series (SampleFlattener.seriesOf); `histogram` is set when the point is kept whole.
 */
export interface SampleTarget {
  sample(k: number, value: number, histogram: HistogramValue | undefined): void;
}

export class SampleFlattener {
  /**
   * Per descriptor and point label set (both built once per series upstream), the flattened
   * label sets: building and sorting them anew for every window cost a sort per sample.
   */
  private readonly cache = new WeakMap<MetricDescriptor, WeakMap<readonly Label[], readonly (readonly Label[])[]>>();
  /** The same for a histogram kept whole: its one series, named without a suffix. */
  private readonly wholeCache = new WeakMap<MetricDescriptor, WeakMap<readonly Label[], readonly (readonly Label[])[]>>();
  private readonly collector = new SampleCollector();

  /**
   * Appends the samples of `points` to `out` (returned). With `nativeHistograms`, a histogram
   * point is one HistogramSample instead of its `_bucket`, `_sum` and `_count` samples.
   */
  flatten(points: readonly MetricPoint[], out: Sample[] = [], nativeHistograms = false): Sample[] {
    const collector = this.collector;
    for (const point of points) {
      const whole = keepsWhole(point, nativeHistograms);
      collector.begin(point, this.seriesOf(point, whole), out);
      this.valuesOf(point, whole, collector);
    }
    collector.end();
    return out;
  }

  /** The label sets of a point's series (cached): its one unsuffixed series when kept `whole`. */
  seriesOf(point: MetricPoint, whole: boolean): readonly (readonly Label[])[] {
    if (whole) return cachedLabels(this.wholeCache, point, () => [withName(point.labels, point.metric.name)]);
    return cachedLabels(this.cache, point, () => seriesLabels(point));
  }

  /** How many samples valuesOf() gives for `point`, which has `series` series (seriesOf). */
  sampleCount(point: MetricPoint, whole: boolean, series: number): number {
    const value = point.value;
    if (whole || typeof value === 'number') return 1;
    if (value === undefined) return series;
    return ('bucketCounts' in value ? value.bucketCounts.length : value.quantiles.length) + 2;
  }

  /**
   * Hands `point`'s samples to `target` in series order, without an object per sample: the
   * sink's hot path takes them straight into its queues. A stale point (no value) marks every
   * series with the stale NaN.
   */
  valuesOf(point: MetricPoint, whole: boolean, target: SampleTarget): void {
    const value = point.value;
    if (whole) {
      if (value === undefined) target.sample(0, STALE_NAN, staleHistogram(point.metric));
      else target.sample(0, (value as HistogramValue).count, value as HistogramValue);
      return;
    }
    if (value === undefined) {
      const series = this.seriesOf(point, false).length;
      for (let k = 0; k < series; k++) target.sample(k, STALE_NAN, undefined);
      return;
    }
    if (typeof value === 'number') {
      target.sample(0, value, undefined);
      return;
    }
    let k = 0;
    if ('bucketCounts' in value) {
      let running = 0;
      for (const count of value.bucketCounts) {
        running += count;
        target.sample(k++, running, undefined);
      }
    } else {
      for (const q of value.quantiles) target.sample(k++, q.value, undefined);
    }
    target.sample(k++, value.sum, undefined);
    target.sample(k, value.count, undefined);
  }
}

/** Whether `point` goes as one native histogram (the receiver takes them) rather than flattened. */
export function keepsWhole(point: MetricPoint, nativeHistograms: boolean): boolean {
  if (!nativeHistograms || point.metric.type !== 'histogram') return false;
  const value = point.value;
  return value === undefined || (typeof value === 'object' && 'bucketCounts' in value);
}

/** Builds Sample objects (flatten()'s output) from a point's samples. */
class SampleCollector implements SampleTarget {
  private point: MetricPoint | undefined;
  private series: readonly (readonly Label[])[] = [];
  private out: Sample[] = [];

  begin(point: MetricPoint, series: readonly (readonly Label[])[], out: Sample[]): void {
    this.point = point;
    this.series = series;
    this.out = out;
  }

  /** Lets go of the last point and output. */
  end(): void {
    this.point = undefined;
    this.series = [];
    this.out = [];
  }

  sample(k: number, value: number, histogram: HistogramValue | undefined): void {
    const { metric, timestampMs, startTimestampMs } = this.point!;
    const labels = this.series[k]!;
    if (histogram === undefined) this.out.push({ labels, value, timestampMs, metric, startTimestampMs });
    else {
      const whole: HistogramSample = { labels, value, timestampMs, metric, startTimestampMs, histogram };
      this.out.push(whole);
    }
  }
}

type LabelCache = WeakMap<MetricDescriptor, WeakMap<readonly Label[], readonly (readonly Label[])[]>>;

function cachedLabels(cache: LabelCache, point: MetricPoint, build: () => readonly (readonly Label[])[]): readonly (readonly Label[])[] {
  let byLabels = cache.get(point.metric);
  if (byLabels === undefined) cache.set(point.metric, (byLabels = new WeakMap()));
  let labels = byLabels.get(point.labels);
  if (labels === undefined) byLabels.set(point.labels, (labels = build()));
  return labels;
}

/** The label sets of a point's series, `__name__` included, in the order `flatten` emits them. */
export function seriesLabels(point: Pick<MetricPoint, 'metric' | 'labels' | 'value'>): readonly (readonly Label[])[] {
  const { metric, labels: base, value } = point;
  const name = metric.name;
  switch (metric.type) {
    case 'counter':
    case 'gauge':
      return [withName(base, name)];
    case 'histogram': {
      const bounds = value !== undefined && typeof value === 'object' && 'bounds' in value ? value.bounds : (metric.bounds ?? []);
      return [
        ...bounds.map((b) => withName(base, `${name}_bucket`, { name: 'le', value: String(b) })),
        withName(base, `${name}_bucket`, { name: 'le', value: '+Inf' }),
        withName(base, `${name}_sum`),
        withName(base, `${name}_count`),
      ];
    }
    case 'summary': {
      const quantiles = value !== undefined && typeof value === 'object' && 'quantiles' in value ? value.quantiles.map((q) => q.quantile) : (metric.quantiles ?? []);
      return [
        ...quantiles.map((q) => withName(base, name, { name: 'quantile', value: String(q) })),
        withName(base, `${name}_sum`),
        withName(base, `${name}_count`),
      ];
    }
  }
}

/** `{__name__: name, ...base, extra}` sorted by label name; `extra` replaces a base label of its name. */
export function withName(base: readonly Label[], name: string, extra?: Label): readonly Label[] {
  const labels: Label[] = [{ name: '__name__', value: name }];
  for (const label of base) if (!extra || label.name !== extra.name) labels.push(label);
  if (extra) labels.push(extra);
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A sample sink (remote-write) behind the point interface: each write flattened, then passed on.
 * `nativeHistograms(tenant)` says whether that tenant's histograms stay whole (default: never).
 */
export class FlatteningSink implements MetricSink {
  private readonly flattener = new SampleFlattener();

  constructor(
    private readonly sink: SampleSink & { close(deadline?: AbortSignal): Promise<void> },
    private readonly nativeHistograms: (tenant: string) => boolean = () => false,
  ) {}

  write(tenant: string, points: readonly MetricPoint[], onSettled?: () => void): void {
    this.sink.write(tenant, this.flattener.flatten(points, [], this.nativeHistograms(tenant)), onSettled);
  }

  flush(): Promise<void> {
    return this.sink.flush();
  }

  expedite(tenant: string): void {
    this.sink.expedite?.(tenant);
  }

  /** `deadline`: when to give up on unsettled samples (the sink's own default without it). */
  close(deadline?: AbortSignal): Promise<void> {
    return this.sink.close(deadline);
  }
}
