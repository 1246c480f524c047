/**
 * The OTLP sink against a real Prometheus 3.x OTLP receiver (one per tenant): counters, gauges,
 * histograms, summaries and a stale marker come back exactly under Prometheus' OTLP names, by
 * protobuf+gzip and by JSON, and a tenant's points reach only its own receiver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricDescriptor, MetricPoint } from '../../src/core/metric-model.ts';
import { OtlpSink, type OtlpTenant, type OtlpWriteOutcome } from '../../src/sinks/otlp/index.ts';
import { tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { prometheusApi } from '../stack/prometheus-query.ts';
import { startPrometheus3, type Prometheus3Handle } from '../support/receivers/prometheus3.ts';
import { eventually, query } from '../support/receivers/query.ts';

const requests: MetricDescriptor = { name: 'otlp_requests', type: 'counter', unit: '', help: 'Requests served.' };
const queue: MetricDescriptor = { name: 'otlp_queue', type: 'gauge', unit: 'By', help: '' };
const latency: MetricDescriptor = { name: 'otlp_latency', type: 'histogram', unit: 's', help: '' };
const sizes: MetricDescriptor = { name: 'otlp_sizes', type: 'summary', unit: '', help: '' };

/** Each tenant's points: the same series, different values, so a misrouted point shows in its value. */
function tenantPoints(base: number, t: number): MetricPoint[] {
  const labels = [{ name: 'route', value: '/a' }];
  return [
    { metric: requests, labels, timestampMs: t, startTimestampMs: t - 60_000, value: base + 42 },
    { metric: queue, labels, timestampMs: t, value: base + 7.5 },
    { metric: queue, labels: [{ name: 'route', value: '/gone' }], timestampMs: t - 2_000, value: base + 1 },
    { metric: queue, labels: [{ name: 'route', value: '/gone' }], timestampMs: t, value: undefined },
    {
      metric: latency,
      labels,
      timestampMs: t,
      startTimestampMs: t - 60_000,
      value: { bounds: [0.1, 1], bucketCounts: [base + 1, 2, 3], count: base + 6, sum: base + 7.25 },
    },
    { metric: sizes, labels, timestampMs: t, value: { quantiles: [{ quantile: 0.5, value: base + 10 }, { quantile: 0.99, value: base + 99 }], count: 4, sum: base + 120 } },
  ];
}

/** What Prometheus holds for one tenant at `t` (seconds), by series. */
function expectedSeries(base: number, tenant: string): Record<string, number> {
  const s = (name: string, extra: Record<string, string> = {}) => render({ __name__: name, job: 'sluice', route: '/a', tenant, ...extra });
  return {
    [s('otlp_requests_total')]: base + 42,
    [s('otlp_queue_bytes')]: base + 7.5,
    [s('otlp_latency_seconds_bucket', { le: '0.1' })]: base + 1,
    [s('otlp_latency_seconds_bucket', { le: '1' })]: base + 3,
    [s('otlp_latency_seconds_bucket', { le: '+Inf' })]: base + 6,
    [s('otlp_latency_seconds_count')]: base + 6,
    [s('otlp_latency_seconds_sum')]: base + 7.25,
    [s('otlp_sizes', { quantile: '0.5' })]: base + 10,
    [s('otlp_sizes', { quantile: '0.99' })]: base + 99,
    [s('otlp_sizes_count')]: 4,
    [s('otlp_sizes_sum')]: base + 120,
  };
}

function render(metric: Record<string, string>): string {
  const { __name__: name, ...labels } = metric;
  const inner = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`)
    .join(',');
  return `${name}{${inner}}`;
}

async function everything(url: string, timeSec: number): Promise<Record<string, number>> {
  const samples = await query(url, '{__name__=~"otlp_.+"}', timeSec);
  return Object.fromEntries(samples.map((sample) => [render(sample.metric), sample.value]));
}

describe('OTLP sink → Prometheus 3.x OTLP receiver', () => {
  let dir: string;
  let acme: Prometheus3Handle;
  let globex: Prometheus3Handle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-otlp-'));
    [acme, globex] = await Promise.all([startPrometheus3(join(dir, 'acme')), startPrometheus3(join(dir, 'globex'))]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([acme?.stop(), globex?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers every kind exactly, protobuf+gzip for one tenant and JSON for the other, each only to its own receiver", async () => {
    const section = tenantsConfigSchema.parse({
      acme: { sink: { type: 'otlp', endpoint: acme.otlpEndpoint, batch: { max_delay: '50ms' } }, extra_labels: { tenant: 'acme' } },
      globex: {
        sink: { type: 'otlp', endpoint: globex.otlpEndpoint, encoding: 'json', compression: 'none', batch: { max_delay: '50ms' } },
        extra_labels: { tenant: 'globex' },
      },
    });
    const sink = new OtlpSink(section.tenants as Record<string, OtlpTenant>, { logger: pino({ level: 'silent' }) });
    const t = Math.floor(Date.now() / 1000) * 1000 - 10_000;
    const write = (tenant: string, points: MetricPoint[]) => new Promise<OtlpWriteOutcome>((resolve) => sink.write(tenant, points, resolve));
    try {
      const outcomes = await Promise.all([write('acme', tenantPoints(0, t)), write('globex', tenantPoints(1000, t))]);
      expect(outcomes).toEqual([
        { sent: 6, failed: 0, filtered: 0 },
        { sent: 6, failed: 0, filtered: 0 },
      ]);
    } finally {
      await sink.close();
    }

    // Acknowledged means stored: no waiting needed, but the head may take a moment to be queryable.
    const atT = t / 1000;
    const acmeSeries = await eventually(() => everything(acme.url, atT), (series) => Object.keys(series).length >= 11);
    const globexSeries = await eventually(() => everything(globex.url, atT), (series) => Object.keys(series).length >= 11);
    expect(acmeSeries).toEqual(expectedSeries(0, 'acme'));
    expect(globexSeries).toEqual(expectedSeries(1000, 'globex'));

    // The stale point ended its series: a value 2 s before t, none at t.
    expect(await query(acme.url, 'otlp_queue_bytes{route="/gone"}', atT - 1)).toEqual([expect.objectContaining({ value: 1 })]);
    expect(await query(globex.url, 'otlp_queue_bytes{route="/gone"}', atT - 1)).toEqual([expect.objectContaining({ value: 1001 })]);

    // Nothing of one tenant reached the other's receiver, at any time.
    const series = async (url: string, tenant: string) => prometheusApi(url, 'series', { 'match[]': `{tenant="${tenant}"}` });
    expect(await series(acme.url, 'globex')).toEqual([]);
    expect(await series(globex.url, 'acme')).toEqual([]);
  }, 120_000);
});
