import type { GroupingLabels } from './grouping-key.ts';

// What the exposition parser (parser.ts) returns, throws and takes.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'untyped';

/**
 * One sample of the exposition. `name` is the sample's own name (`x_bucket`, `x_sum`, ...),
 * `family` the metric family it belongs to (`x`), `type` the family's TYPE (`untyped` without one).
 * `labels` are the sample's labels with the grouping labels merged in; `le` of a histogram and
 * `quantile` of a summary are written as Prometheus writes them (`"1"` → `"1.0"`, see
 * float-format.ts). `timestamp_ms` is the sample's own timestamp, else the message's push time
 * when configured, else undefined.
 */
export type PrometheusSampleRecord = {
  name: string;
  family: string;
  type: MetricType;
  labels: Record<string, string>;
  value: number;
  timestamp_ms: number | undefined;
};

/**
 * A line the parser refuses; `message` names metrics and labels but never label values or text.
 * `oversized` when the message is well-formed but the grouping key would blow it up beyond its bound.
 */
export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    message: string,
    readonly reason: 'malformed' | 'oversized' = 'malformed',
  ) {
    super(message);
  }
}

export interface ParseOptions {
  readonly grouping: GroupingLabels;
  readonly onLabelConflict: 'reject' | 'override';
  readonly defaultTimestampMs: number | undefined;
  /**
   * Most characters of grouping labels (name + value, summed over the labels and over the
   * samples) the grouping key may add to a message: the key is applied to every sample, so
   * without a bound a small key times many samples is quadratic in the message's size.
   */
  readonly groupingBudget: number;
}
