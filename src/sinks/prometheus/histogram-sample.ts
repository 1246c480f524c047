import type { HistogramValue, MetricDescriptor } from '../../core/metric-model.ts';
import { STALE_NAN } from '../../core/stale-marker.ts';
import type { Sample } from '../../core/types.ts';

/**
 * A histogram point kept whole, as one sample of one series (named without a suffix), for a
 * receiver that stores native histograms with custom buckets (remote-write 2.0). `value` is the
 * count, or Prometheus' stale NaN when the series ended; `histogram` then has the bounds and no
 * observations, with the stale NaN as its sum (how Prometheus marks a histogram series stale).
 */
export interface HistogramSample extends Sample {
  readonly histogram: HistogramValue;
}

export function isHistogramSample(sample: Sample): sample is HistogramSample {
  return 'histogram' in sample && sample.histogram !== undefined;
}

/** The histogram of a stale point of `metric`: its bounds, nothing counted, the stale NaN as sum. */
export function staleHistogram(metric: MetricDescriptor): HistogramValue {
  const bounds = metric.bounds ?? [];
  return { bounds, bucketCounts: new Array<number>(bounds.length + 1).fill(0), count: 0, sum: STALE_NAN };
}
