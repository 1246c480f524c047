import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeadLetterTally } from '../runtime/dead-letter.ts';

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
    help: 'Rejected records, by reason, in dead letters written (a message that fails as a whole counts once).',
    labelNames: ['pipeline', 'reason'] as const,
    registers: [this.registry],
  });

  readonly deadLetterMessages = new Counter({
    name: 'sluice_dead_letter_messages_total',
    help: 'Dead-letter messages written (one per source message with rejected records), by their sluice.reason.',
    labelNames: ['pipeline', 'reason'] as const,
    registers: [this.registry],
  });

  readonly deadLetterUnwritable = new Counter({
    name: 'sluice_dead_letter_unwritable_total',
    help: 'Dead letters written without the original bytes because the dead-letter topic would not take them.',
    labelNames: ['pipeline'] as const,
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

  readonly unreadablePartials = new Counter({
    name: 'sluice_partials_unreadable_total',
    help: 'Attempts to read a partials message stage 2 cannot decode (a newer wire, a label set this config lacks); its partition waits on it.',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });
  readonly partialsSkipped = new Counter({
    name: 'sluice_partials_skipped_total',
    help: 'Partials messages stage 2 could not decode and moved past because repartition.skip_unreadable lists them; their partials are lost.',
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

  readonly checkpointDuration = new Histogram({
    name: 'sluice_checkpoint_duration_seconds',
    help: 'Stage-2 checkpoints written: time to build and write one (state, offset and outbox).',
    labelNames: ['pipeline'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [this.registry],
  });

  readonly checkpointBytes = new Counter({
    name: 'sluice_checkpoint_bytes_total',
    help: 'Bytes of stage-2 checkpoints written to the state backend (only what changed, once incremental).',
    labelNames: ['pipeline'] as const,
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

  readonly partitionStalledSince = new Gauge({
    name: 'sluice_partition_stalled_since_seconds',
    help: 'Unix time since which a partition with records to read has made no progress; 0 while it progresses or has nothing to read. /readyz fails once one is stalled longer than max(30 s, 3 x session_timeout).',
    labelNames: ['pipeline', 'stage', 'topic', 'partition'] as const,
    registers: [this.registry],
  });

  readonly kafkaClientRestarts = new Counter({
    name: 'sluice_kafka_client_restarts_total',
    help: 'Kafka clients re-created after a crash or a failed transaction (stage1-consumer, stage2-consumer, stage1-producer).',
    labelNames: ['pipeline', 'client'] as const,
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

  readonly anomalyEvents = new Counter({
    name: 'sluice_anomaly_events_total',
    help: 'Anomaly events written to Kafka (a replay after a crash may write an event again, under the same key).',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  // Reload metrics named as Prometheus names its own (prometheus_config_last_reload_successful ...).
  readonly configReloads = new Counter({
    name: 'sluice_config_reloads_total',
    help: 'Reloads of pipelines and tenants (SIGHUP, a file change, POST /-/reload, the tenant registry), by result: success or failure.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly configLastReloadSuccessful = new Gauge({
    name: 'sluice_config_last_reload_successful',
    help: 'Whether the last reload attempt succeeded (1) or was refused and the running config kept (0).',
    registers: [this.registry],
  });

  readonly configLastReloadSuccessTimestamp = new Gauge({
    name: 'sluice_config_last_reload_success_timestamp_seconds',
    help: 'When the running config was loaded (start or last successful reload), Unix seconds.',
    registers: [this.registry],
  });

  readonly removedTenantPoints = new Counter({
    name: 'sluice_removed_tenant_points_dropped_total',
    help: 'Points stage 2 emitted for a tenant after a reload removed it (windows still open then); dropped, never sent.',
    labelNames: ['pipeline', 'tenant'] as const,
    registers: [this.registry],
  });

  readonly tenantRegistryRefused = new Counter({
    name: 'sluice_tenant_registry_entries_refused_total',
    help: 'Tenant registry entries refused as invalid (the tenant keeps its last valid entry, if any).',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  constructor() {
    this.configLastReloadSuccessful.set(1);
    this.configLastReloadSuccessTimestamp.set(Date.now() / 1000);
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_process_' });
  }

  /** Counts the dead letters of a committed transaction. */
  deadLetters(pipeline: string, tally: DeadLetterTally): void {
    for (const [reason, count] of tally.records) this.deadLettered.inc({ pipeline, reason }, count);
    for (const [reason, count] of tally.messages) this.deadLetterMessages.inc({ pipeline, reason }, count);
    if (tally.unwritable > 0) this.deadLetterUnwritable.inc({ pipeline }, tally.unwritable);
  }
}
