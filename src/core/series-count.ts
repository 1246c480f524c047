import type { MetricDescriptor, PointValue } from './metric-model.ts';

/**
 * How many Prometheus series (and samples) one point of `metric` stands for: what a receiver
 * counts against its limits and what the series budget and the outbox bound. A histogram is its
 * buckets plus `+Inf`, `_sum` and `_count`; a summary its quantiles plus `_sum` and `_count`.
 */
export function seriesPerPoint(metric: MetricDescriptor, value?: PointValue): number {
  switch (metric.type) {
    case 'counter':
    case 'gauge':
      return 1;
    case 'histogram':
      return (value !== undefined && typeof value === 'object' && 'bounds' in value ? value.bounds.length : (metric.bounds?.length ?? 0)) + 3;
    case 'summary':
      return (value !== undefined && typeof value === 'object' && 'quantiles' in value ? value.quantiles.length : (metric.quantiles?.length ?? 0)) + 2;
  }
}
