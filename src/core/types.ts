import type { MetricDescriptor } from './metric-model.ts';

/** A Prometheus label. Label lists handed between components are sorted by name. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/**
 * One output sample of one series. `labels` includes `__name__`, is sorted by
 * name and has no empty values (the sink relies on that and does not re-sort).
 */
export interface Sample {
  readonly labels: readonly Label[];
  readonly value: number;
  readonly timestampMs: number;
  /** The metric this series was flattened from (remote-write 2.0 sends it as metadata); shared, never per sample. */
  readonly metric?: MetricDescriptor;
  /** Cumulative series: when its running total started (remote-write 2.0's start timestamp). */
  readonly startTimestampMs?: number;
}

/** Where a record came from: enough to find it again and to name it in the DLQ. */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}
