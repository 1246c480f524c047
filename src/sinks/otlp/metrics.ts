/**
 * The OTLP sink's self-metrics, per tenant, named after the OpenTelemetry Collector exporter's
 * (`otelcol_exporter_sent_metric_points`, `..._send_failed_metric_points`):
 *
 * | metric | meaning |
 * |---|---|
 * | sluice_otlp_points_total{tenant, outcome, reason} | points settled: outcome `sent`, `failed` or `filtered`; `reason` says why a point failed (`http_400`, `partial_success`, `invalid`, `backlog_full`, `shutdown`, ...) |
 * | sluice_otlp_retries_total{tenant, reason} | requests retried, by what failed (`http_503`, `timeout`, ...) |
 * | sluice_otlp_sent_bytes_total{tenant} | request bytes sent (as on the wire, compressed) |
 *
 * `tenant` is bounded by the registry; `reason` is a fixed vocabulary; never a header or a secret.
 */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

export type PointOutcome = 'sent' | 'failed' | 'filtered';

/** What the sender reports; tests pass their own. */
export interface OtlpSinkEvents {
  points(tenant: string, outcome: PointOutcome, reason: string, count: number): void;
  retried(tenant: string, reason: string): void;
  sentBytes(tenant: string, bytes: number): void;
}

export const noopOtlpEvents: OtlpSinkEvents = { points() {}, retried() {}, sentBytes() {} };

export function createOtlpSinkMetrics(registry: Registry): OtlpSinkEvents {
  const points = new Counter({
    name: 'sluice_otlp_points_total',
    help: 'Metric points the OTLP sink settled, by outcome (sent, failed, filtered) and failure reason.',
    labelNames: ['tenant', 'outcome', 'reason'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'sluice_otlp_retries_total',
    help: 'OTLP export requests retried, by what failed.',
    labelNames: ['tenant', 'reason'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'sluice_otlp_sent_bytes_total',
    help: 'OTLP request bytes sent, as on the wire.',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  return {
    points: (tenant, outcome, reason, count) => points.inc({ tenant, outcome, reason }, count),
    retried: (tenant, reason) => retries.inc({ tenant, reason }),
    sentBytes: (tenant, count) => bytes.inc({ tenant }, count),
  };
}
