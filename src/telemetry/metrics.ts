import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeadLetterReason } from '../core/dead-letter-reason.ts';

/**
 * Sluice's own metrics (served on /metrics), by Prometheus conventions. The remote-write sink
 * registers its own per-tenant metrics (`sluice_remote_write_*`) in the same registry.
 */
export class SluiceMetrics {
  readonly registry = new Registry();

  readonly recordsIn = new Counter({
    name: 'sluice_records_in_total',
    help: 'Records read from source topics.',
    labelNames: ['pipeline', 'topic'] as const,
    registers: [this.registry],
  });

  readonly deadLettered = new Counter({
    name: 'sluice_dead_letter_records_total',
    help: 'Records sent to the dead-letter topic, by reason.',
    labelNames: ['pipeline', 'reason'] as const,
    registers: [this.registry],
  });

  readonly filtered = new Counter({
    name: 'sluice_records_filtered_total',
    help: 'Records dropped by a filter or relabel rule of the pipeline.',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'sluice_consumer_lag_records',
    help: 'Records between the consumer position and the partition end.',
    labelNames: ['pipeline', 'topic', 'partition'] as const,
    registers: [this.registry],
  });

  readonly watermarkDelay = new Gauge({
    name: 'sluice_watermark_delay_seconds',
    help: 'Wall-clock time minus the event-time watermark.',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly latePartials = new Counter({
    name: 'sluice_late_partials_total',
    help: 'Partial aggregates that reached stage 2 after their window fired (should stay 0).',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly checkpoints = new Counter({
    name: 'sluice_checkpoints_total',
    help: 'Stage-2 checkpoint attempts, by result (ok, failed, fenced).',
    labelNames: ['pipeline', 'result'] as const,
    registers: [this.registry],
  });

  readonly pausedPartitions = new Gauge({
    name: 'sluice_paused_partitions',
    help: 'Stage-2 partitions paused by backpressure (state backend down or outbox over its bound).',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly activeSeries = new Gauge({
    name: 'sluice_window_state_series',
    help: 'Series held in windowed-aggregation state.',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly stateSeriesFolded = new Counter({
    name: 'sluice_state_series_folded_total',
    help: 'Partial aggregates of new series beyond the tenant\'s limits.max_state_series, folded into its overflow series.',
    labelNames: ['pipeline', 'tenant'] as const,
    registers: [this.registry],
  });

  readonly retainedTotalsDropped = new Counter({
    name: 'sluice_retained_totals_dropped_total',
    help: 'Totals of expired counter / histogram series dropped to stay within limits.max_state_series (such a series restarts from 0 if it returns).',
    labelNames: ['pipeline', 'tenant'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_process_' });
  }

  deadLetter(pipeline: string, reason: DeadLetterReason, count = 1): void {
    this.deadLettered.inc({ pipeline, reason }, count);
  }
}
