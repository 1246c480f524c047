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
export class SampleFlattener {
  /**
   * Per descriptor and point label set (both built once per series upstream), the flattened
   * label sets: building and sorting them anew for every window cost a sort per sample.
   */
  private readonly cache = new WeakMap<MetricDescriptor, WeakMap<readonly Label[], readonly (readonly Label[])[]>>();
  /** The same for a histogram kept whole: its one series, named without a suffix. */
  private readonly wholeCache = new WeakMap<MetricDescriptor, WeakMap<readonly Label[], readonly (readonly Label[])[]>>();

  /**
   * Appends the samples of `points` to `out` (returned). With `nativeHistograms`, a histogram
   * point is one HistogramSample instead of its `_bucket`, `_sum` and `_count` samples.
   */
  flatten(points: readonly MetricPoint[], out: Sample[] = [], nativeHistograms = false): Sample[] {
    for (const point of points) {
      const value = point.value;
      const whole = nativeHistograms && point.metric.type === 'histogram' && (value === undefined || (typeof value === 'object' && 'bucketCounts' in value));
      if (whole) out.push(this.wholeHistogram(point, value));
      else this.flattenPoint(point, out);
    }
    return out;
  }

  private wholeHistogram(point: MetricPoint, value: HistogramValue | undefined): HistogramSample {
    const { metric, timestampMs, startTimestampMs } = point;
    const labels = cachedLabels(this.wholeCache, point, () => [withName(point.labels, metric.name)])[0]!;
    if (value === undefined) return { labels, value: STALE_NAN, timestampMs, metric, startTimestampMs, histogram: staleHistogram(metric) };
    return { labels, value: value.count, timestampMs, metric, startTimestampMs, histogram: value };
  }

  private flattenPoint(point: MetricPoint, out: Sample[]): void {
    const labels = this.labelsOf(point);
    const { metric, timestampMs, value } = point;
    const startTimestampMs = point.startTimestampMs;
    if (value === undefined) {
      for (const series of labels) out.push({ labels: series, value: STALE_NAN, timestampMs, metric, startTimestampMs });
      return;
    }
    if (typeof value === 'number') {
      out.push({ labels: labels[0]!, value, timestampMs, metric, startTimestampMs });
      return;
    }
    let i = 0;
    if ('bucketCounts' in value) {
      let running = 0;
      for (const count of value.bucketCounts) {
        running += count;
        out.push({ labels: labels[i++]!, value: running, timestampMs, metric, startTimestampMs });
      }
    } else {
      for (const q of value.quantiles) out.push({ labels: labels[i++]!, value: q.value, timestampMs, metric, startTimestampMs });
    }
    out.push({ labels: labels[i++]!, value: value.sum, timestampMs, metric, startTimestampMs });
    out.push({ labels: labels[i]!, value: value.count, timestampMs, metric, startTimestampMs });
  }

  private labelsOf(point: MetricPoint): readonly (readonly Label[])[] {
    return cachedLabels(this.cache, point, () => seriesLabels(point));
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
