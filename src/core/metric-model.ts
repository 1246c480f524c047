import type { Label } from './types.ts';

/**
 * The neutral metric model at the operator edge (issue 9): what stage 2's aggregations emit and
 * what every sink encodes its own way. Remote-write v1 flattens a histogram into `_bucket{le}`,
 * `_sum` and `_count` series; remote-write 2.0 adds the descriptor as metadata and the start
 * time; OTLP maps it one to one. So no sink has to parse Prometheus names back.
 *
 * Modelled on OpenTelemetry's data model (a descriptor shared by its points, cumulative
 * temporality with a start time), restricted to what Sluice's kinds produce.
 */

/** How a metric's values behave over time; a sink chooses its wire type from this. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** What a metric is, shared by all of its points (one object per configured metric, never per point). */
export interface MetricDescriptor {
  /** The configured name, without type suffixes a sink may add (`_bucket`, `_sum`, `_count`). */
  readonly name: string;
  readonly type: MetricType;
  /** UCUM-style unit as configured (`s`, `By`, `{token}`), '' when none. */
  readonly unit: string;
  /** The configured `help:`, '' when none. */
  readonly help: string;
  /**
   * Histograms: the bucket upper bounds, so a sink can name every bucket series of a stale point
   * (which has no HistogramValue to take them from). Optional addition to the shared model.
   */
  readonly bounds?: readonly number[];
  /** Summaries: the quantiles, for the same reason. Optional addition to the shared model. */
  readonly quantiles?: readonly number[];
}

/** Explicit-bucket histogram: `bucketCounts[i]` counts values in (bounds[i-1], bounds[i]]; the last bucket is (bounds[n-1], +Inf]. */
export interface HistogramValue {
  readonly bounds: readonly number[];
  /** Per bucket (NOT cumulative), length `bounds.length + 1`. */
  readonly bucketCounts: readonly number[];
  readonly count: number;
  readonly sum: number;
}

/** Quantiles over one window, with the window's count and sum. */
export interface SummaryValue {
  readonly quantiles: readonly { readonly quantile: number; readonly value: number }[];
  readonly count: number;
  readonly sum: number;
}

export type PointValue = number | HistogramValue | SummaryValue;

/** One point of one series. */
export interface MetricPoint {
  readonly metric: MetricDescriptor;
  /** Sorted by name; no `__name__` (the descriptor names the metric). */
  readonly labels: readonly Label[];
  readonly timestampMs: number;
  /** Cumulative kinds: when this series' running total started; a sink may send it (RW2, OTLP) or not (RW1). */
  readonly startTimestampMs?: number;
  /**
   * The value, by the descriptor's type: counter and gauge carry a number, histogram a
   * HistogramValue, summary a SummaryValue. `undefined` marks the series stale (it ended):
   * Prometheus' stale NaN, OTLP's no-recorded-value flag.
   */
  readonly value: PointValue | undefined;
}

/** Where tenant-routed points go: the interface every sink type implements. */
export interface MetricSink {
  /**
   * Queues points for one tenant; never blocks and never throws for delivery problems.
   * `onSettled` runs once, when every point of this write was acknowledged or given up on.
   */
  write(tenant: string, points: readonly MetricPoint[], onSettled?: () => void): void;
  /** Resolves when everything written before the call was acknowledged or given up on. */
  flush(): Promise<void>;
  /**
   * Sends what is queued for `tenant` now instead of letting a partial batch wait for more (its
   * `max_delay`): stage 2 calls it after a window fired, when no more points of that window come.
   */
  expedite?(tenant: string): void;
  close(): Promise<void>;
}
