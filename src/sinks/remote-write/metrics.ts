/**
 * The sink's self-metrics, per tenant, in the style of Prometheus' own
 * `prometheus_remote_storage_*` family, so operators recognise them:
 *
 * | metric | like Prometheus' |
 * |---|---|
 * | sluice_remote_write_samples_in_total | prometheus_remote_storage_samples_in_total |
 * | sluice_remote_write_samples_sent_total | prometheus_remote_storage_samples_total |
 * | sluice_remote_write_samples_failed_total{reason} | prometheus_remote_storage_samples_failed_total |
 * | sluice_remote_write_samples_retried_total | prometheus_remote_storage_samples_retried_total |
 * | sluice_remote_write_samples_dropped_total{reason} | prometheus_remote_storage_samples_dropped_total |
 * | sluice_remote_write_samples_pending | prometheus_remote_storage_samples_pending |
 * | sluice_remote_write_request_duration_seconds{outcome} | prometheus_remote_storage_sent_batch_duration_seconds |
 * | sluice_remote_write_sent_bytes_total | prometheus_remote_storage_bytes_total |
 * | sluice_remote_write_highest_sent_timestamp_seconds | prometheus_remote_storage_queue_highest_sent_timestamp_seconds |
 * | sluice_remote_write_active_series | — (limits) |
 * | sluice_remote_write_overflow_samples_total | — (otel_metric_overflow folding) |
 * | sluice_remote_write_blocked | — (backlog policy block) |
 *
 * Labels are `tenant` (bounded by the registry, and by default_route.max_tenants)
 * and a fixed-vocabulary `reason` / `outcome`; never a header or a secret.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { AllSenderEvents } from './events.ts';

export interface SinkMetrics extends AllSenderEvents {
  readonly samplesIn: Counter<'tenant'>;
  readonly samplesSent: Counter<'tenant'>;
  readonly samplesFailed: Counter<'tenant' | 'reason'>;
  readonly samplesRetried: Counter<'tenant'>;
  readonly samplesDropped: Counter<'tenant' | 'reason'>;
  readonly samplesPending: Gauge<'tenant'>;
  readonly requestDuration: Histogram<'tenant' | 'outcome'>;
  readonly sentBytes: Counter<'tenant'>;
  readonly highestSentGauge: Gauge<'tenant'>;
  readonly activeSeriesGauge: Gauge<'tenant'>;
  readonly overflowSamples: Counter<'tenant'>;
  readonly blockedGauge: Gauge<'tenant'>;
  readonly protocolFallbacks: Counter<'tenant'>;
}

/** Registers the sink's metrics on `registry` and returns SenderEvents that update them. */
export function createSinkMetrics(registry: Registry): SinkMetrics {
  const registers = [registry];
  const samplesIn = new Counter({
    name: 'sluice_remote_write_samples_in_total',
    help: 'Samples written to the remote-write sink.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const samplesSent = new Counter({
    name: 'sluice_remote_write_samples_sent_total',
    help: 'Samples a tenant receiver acknowledged with 2xx.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const samplesFailed = new Counter({
    name: 'sluice_remote_write_samples_failed_total',
    help: 'Samples given up on, by reason (out_of_order, out_of_bounds, duplicate, backlog_full, invalid_sample, http_<status>, …).',
    labelNames: ['tenant', 'reason'] as const,
    registers,
  });
  const samplesRetried = new Counter({
    name: 'sluice_remote_write_samples_retried_total',
    help: 'Samples re-sent after a retryable failure (5xx, 429, timeout, network).',
    labelNames: ['tenant'] as const,
    registers,
  });
  const samplesDropped = new Counter({
    name: 'sluice_remote_write_samples_dropped_total',
    help: 'Samples deliberately not sent, by reason (metric_filtered, stale_overflow).',
    labelNames: ['tenant', 'reason'] as const,
    registers,
  });
  const samplesPending = new Gauge({
    name: 'sluice_remote_write_samples_pending',
    help: 'Samples written for a tenant and not yet acknowledged or given up on (queued or in flight).',
    labelNames: ['tenant'] as const,
    registers,
  });
  const requestDuration = new Histogram({
    name: 'sluice_remote_write_request_duration_seconds',
    help: 'Duration of remote-write HTTP requests, by outcome (success, retryable, permanent).',
    labelNames: ['tenant', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const sentBytes = new Counter({
    name: 'sluice_remote_write_sent_bytes_total',
    help: 'Compressed request bytes sent (every attempt).',
    labelNames: ['tenant'] as const,
    registers,
  });
  const highestSent = new Gauge({
    name: 'sluice_remote_write_highest_sent_timestamp_seconds',
    help: 'Newest sample timestamp a tenant receiver acknowledged.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const activeSeriesGauge = new Gauge({
    name: 'sluice_remote_write_active_series',
    help: 'Series the sink tracks as active for a tenant (overflow series excluded).',
    labelNames: ['tenant'] as const,
    registers,
  });
  const overflowSamples = new Counter({
    name: 'sluice_remote_write_overflow_samples_total',
    help: 'Samples of series beyond limits.max_active_series, folded into an otel_metric_overflow="true" series.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const blockedGauge = new Gauge({
    name: 'sluice_remote_write_blocked',
    help: '1 while a tenant is over its backlog bound under policy block (its sources should be paused).',
    labelNames: ['tenant'] as const,
    registers,
  });
  const protocolFallbacks = new Counter({
    name: 'sluice_remote_write_protocol_fallbacks_total',
    help: 'Tenants under protocol: auto switched from remote-write 2.0 to 1.0 because the receiver does not accept 2.0.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const highest = new Map<string, number>();

  const events: AllSenderEvents = {
    sent: (tenant, samples) => samplesSent.inc({ tenant }, samples),
    failed: (tenant, samples, reason) => samplesFailed.inc({ tenant, reason }, samples),
    retried: (tenant, samples) => samplesRetried.inc({ tenant }, samples),
    queued: (tenant, backlog) => samplesPending.set({ tenant }, backlog),
    received: (tenant, samples) => samplesIn.inc({ tenant }, samples),
    filtered: (tenant, samples, reason) => samplesDropped.inc({ tenant, reason }, samples),
    overflowed: (tenant, samples) => overflowSamples.inc({ tenant }, samples),
    activeSeries: (tenant, series) => activeSeriesGauge.set({ tenant }, series),
    request: (tenant, seconds, outcome, bytes) => {
      requestDuration.observe({ tenant, outcome }, seconds);
      sentBytes.inc({ tenant }, bytes);
    },
    highestSentTimestamp: (tenant, timestampMs) => {
      if (timestampMs > (highest.get(tenant) ?? Number.NEGATIVE_INFINITY)) {
        highest.set(tenant, timestampMs);
        highestSent.set({ tenant }, timestampMs / 1000);
      }
    },
    blocked: (tenant, blocked) => blockedGauge.set({ tenant }, blocked ? 1 : 0),
    protocolFallback: (tenant) => protocolFallbacks.inc({ tenant }),
  };
  return Object.assign(events, {
    samplesIn,
    samplesSent,
    samplesFailed,
    samplesRetried,
    samplesDropped,
    samplesPending,
    requestDuration,
    sentBytes,
    highestSentGauge: highestSent,
    activeSeriesGauge,
    overflowSamples,
    blockedGauge,
    protocolFallbacks,
  });
}
