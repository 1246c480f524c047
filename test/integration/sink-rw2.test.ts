import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HistogramValue, MetricDescriptor, MetricPoint } from '../../src/core/metric-model.ts';
import type { Label, Sample } from '../../src/core/types.ts';
import { createSinkMetrics, RemoteWriteSink } from '../../src/sinks/remote-write/index.ts';
import { remoteWriteTenantsSchema as tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { remoteWriteSinkType } from '../../src/sinks/remote-write/sink-type.ts';
import { startPrometheus3 } from '../stack/index.ts';
import type { PrometheusHandle } from '../stack/index.ts';
import { queryHistograms, queryInstant, querySamples } from '../stack/prometheus-query.ts';
import type { StoredHistogram } from '../stack/prometheus-query.ts';

/**
 * Remote-write 2.0 against a real Prometheus 3.x (built from its Go module by test/stack), and
 * protocol: auto against real 1.0-only receivers: the stack's Prometheus 2.42, and a 3.x that
 * accepts only prometheus.WriteRequest. Every series is read back exactly.
 */
const stack = inject('stack');
const RUN = `rw2${Date.now().toString(36)}`;
const silent = pino({ level: 'silent' });

const requests: MetricDescriptor = { name: 'rw2_requests_total', type: 'counter', unit: '', help: 'Requests served.' };
const latency: MetricDescriptor = { name: 'rw2_latency_seconds', type: 'histogram', unit: 'seconds', help: 'Request latency.' };
const depth: MetricDescriptor = { name: 'rw2_queue_depth', type: 'gauge', unit: 'requests', help: 'Queued requests.' };

function labels(name: string, extra: Record<string, string> = {}): Label[] {
  return [{ name: '__name__', value: name }, { name: 'run', value: RUN }, ...Object.entries(extra).map(([n, v]) => ({ name: n, value: v }))].sort(
    (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

let prom3: PrometheusHandle;
let prom3v1Only: PrometheusHandle;

let started: PrometheusHandle[] = [];

beforeAll(async () => {
  const results = await Promise.allSettled([
    // Start timestamps become a zero sample at the start time; metadata type and unit become
    // __type__ / __unit__ labels: the two ways Prometheus 3 lets a query see what 2.0 carried.
    startPrometheus3({ features: ['created-timestamp-zero-ingestion', 'type-and-unit-labels'] }),
    startPrometheus3({ remoteWrite2: false }),
  ]);
  started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  [prom3, prom3v1Only] = started as [PrometheusHandle, PrometheusHandle];
}, 15 * 60_000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

function sinkFor(endpoint: string, protocol: 'v1' | 'v2' | 'auto') {
  const registry = new Registry();
  const sink = new RemoteWriteSink(
    tenantsConfigSchema.parse({ acme: { endpoint, protocol, shards: 2, batch: { max_delay: '50ms' } } }),
    { logger: silent, events: createSinkMetrics(registry) },
  );
  return { sink, registry };
}

async function counterValues(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason ?? v.labels.tenant), v.value]));
}

/** Stored samples of every series matching `selector` over the last 10 minutes: labels → [ts, value][]. */
async function stored(baseUrl: string, selector: string, now: number): Promise<Record<string, [number, number][]>> {
  const series = await querySamples(baseUrl, selector, 600, Math.ceil(now / 1000) + 1);
  const out: Record<string, [number, number][]> = {};
  for (const s of series) {
    const key = Object.entries(s.metric)
      .filter(([name]) => name !== 'run')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([n, v]) => `${n}=${v}`)
      .join(',');
    out[key] = s.samples;
  }
  return out;
}

function workload(now: number): { first: Sample[]; second: Sample[]; start: number; t1: number; t2: number } {
  const start = now - 120_000;
  const t1 = now - 60_000;
  const t2 = now - 30_000;
  const point = (name: string, metric: MetricDescriptor, extra: Record<string, string>, value: number, ts: number): Sample => ({
    labels: labels(name, extra),
    value,
    timestampMs: ts,
    metric,
    startTimestampMs: start,
  });
  const at = (ts: number, k: number): Sample[] => [
    point('rw2_requests_total', requests, { model: 'qwen-plus' }, 5 * k, ts),
    point('rw2_requests_total', requests, { model: 'qwen-max' }, 7 * k, ts),
    point('rw2_latency_seconds_bucket', latency, { le: '0.5' }, 2 * k, ts),
    point('rw2_latency_seconds_bucket', latency, { le: '+Inf' }, 3 * k, ts),
    point('rw2_latency_seconds_sum', latency, {}, 0.75 * k, ts),
    point('rw2_latency_seconds_count', latency, {}, 3 * k, ts),
    point('rw2_queue_depth', depth, {}, 4 + k, ts),
  ];
  return { first: at(t1, 1), second: at(t2, 2), start, t1, t2 };
}

describe('remote-write 2.0 into a real Prometheus 3.x', () => {
  it('stores every value exactly, a zero at each counter and histogram start timestamp, and the type and unit', async () => {
    const { sink, registry } = sinkFor(prom3.remoteWriteUrl, 'v2');
    const now = Date.now();
    const { first, second, start, t1, t2 } = workload(now);
    sink.write('acme', first);
    await sink.flush();
    sink.write('acme', second);
    await sink.flush();
    await sink.close();

    expect(await counterValues(registry, 'sluice_remote_write_samples_sent_total')).toEqual({ acme: 14 });
    expect(await counterValues(registry, 'sluice_remote_write_samples_failed_total')).toEqual({});
    const counter = { __type__: 'counter' };
    const key = (name: string, extra: Record<string, string>) =>
      Object.entries({ __name__: name, ...extra })
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([n, v]) => `${n}=${v}`)
        .join(',');
    const withStart = (v1: number, v2: number): [number, number][] => [
      [start, 0],
      [t1, v1],
      [t2, v2],
    ];
    expect(await stored(prom3.url, `{run="${RUN}"}`, now)).toEqual({
      [key('rw2_requests_total', { ...counter, model: 'qwen-plus' })]: withStart(5, 10),
      [key('rw2_requests_total', { ...counter, model: 'qwen-max' })]: withStart(7, 14),
      [key('rw2_latency_seconds_bucket', { __type__: 'histogram', __unit__: 'seconds', le: '0.5' })]: withStart(2, 4),
      [key('rw2_latency_seconds_bucket', { __type__: 'histogram', __unit__: 'seconds', le: '+Inf' })]: withStart(3, 6),
      [key('rw2_latency_seconds_sum', { __type__: 'histogram', __unit__: 'seconds' })]: withStart(0.75, 1.5),
      [key('rw2_latency_seconds_count', { __type__: 'histogram', __unit__: 'seconds' })]: withStart(3, 6),
      // A gauge has no start: no zero sample.
      [key('rw2_queue_depth', { __type__: 'gauge', __unit__: 'requests' })]: [
        [t1, 5],
        [t2, 6],
      ],
    });
  });
});

describe('protocol: auto against 1.0-only receivers', () => {
  it.each([
    ['Prometheus 2.42 (the stack)', () => stack.prometheus.acme!.url, () => stack.prometheus.acme!.remoteWriteUrl],
    ['Prometheus 3.x accepting prometheus.WriteRequest only', () => prom3v1Only.url, () => prom3v1Only.remoteWriteUrl],
  ])('falls back to 1.0 once against %s and stores every sample exactly', async (_name, baseUrl, writeUrl) => {
    const { sink, registry } = sinkFor(writeUrl(), 'auto');
    const now = Date.now();
    const { first, second, t1, t2 } = workload(now);
    // Two series only: the fallback resends the first batch, the second goes out as 1.0 directly.
    const only = (samples: Sample[]) => samples.filter((s) => s.metric === requests);
    sink.write('acme', only(first));
    await sink.flush();
    sink.write('acme', only(second));
    await sink.flush();
    await sink.close();

    expect(await counterValues(registry, 'sluice_remote_write_protocol_fallbacks_total')).toEqual({ acme: 1 });
    expect(await counterValues(registry, 'sluice_remote_write_samples_sent_total')).toEqual({ acme: 4 });
    expect(await counterValues(registry, 'sluice_remote_write_samples_failed_total')).toEqual({});
    expect(await stored(baseUrl(), `rw2_requests_total{run="${RUN}"}`, now)).toEqual({
      '__name__=rw2_requests_total,model=qwen-max': [
        [t1, 7],
        [t2, 14],
      ],
      '__name__=rw2_requests_total,model=qwen-plus': [
        [t1, 5],
        [t2, 10],
      ],
    });
  });

  it('protocol: v2 fixed against Prometheus 2.42 never counts unconfirmed samples as sent', async () => {
    const { sink, registry } = sinkFor(stack.prometheus.acme!.remoteWriteUrl, 'v2');
    const { first } = workload(Date.now());
    sink.write('acme', first);
    await sink.flush();
    await sink.close();
    // 2.42 does not look at Content-Type: it reads a 2.0 body as an empty 1.0 request and answers 204
    // without the written-count headers. Only the header check tells the samples were not stored.
    expect(await counterValues(registry, 'sluice_remote_write_samples_sent_total')).toEqual({});
    expect(await counterValues(registry, 'sluice_remote_write_samples_failed_total')).toEqual({ not_written: 7 });
  });
});

describe('histograms: native_custom_buckets into a real Prometheus 3.x', () => {
  const bounds = [0.1, 0.5, 2.5];
  const nhcb: MetricDescriptor = { name: 'rw2_nhcb_latency_seconds', type: 'histogram', unit: 'seconds', help: 'Request latency.', bounds };
  /** Per model and window: per-bucket counts (+Inf last) and sum; empty buckets and +Inf-only counts included. */
  const input: Record<string, [number[], number][]> = {
    'qwen-plus': [
      [[2, 0, 3, 1], 9.5],
      [[4, 1, 3, 2], 17.25],
    ],
    'qwen-max': [
      [[0, 0, 0, 3], 12],
      [[0, 5, 0, 3], 14.5],
    ],
  };

  /** Writes `input` (two windows) through the remote_write sink type for a tenant with the option on. */
  async function writeInput(endpoint: string, protocol: 'v2' | 'auto') {
    const registry = new Registry();
    const tenants = tenantsConfigSchema.parse({
      acme: { endpoint, protocol, histograms: 'native_custom_buckets', shards: 2, batch: { max_delay: '50ms' } },
    });
    const sink = remoteWriteSinkType.create({ tenants: tenants.tenants }, { logger: silent, registry, shared: (_key, make) => make() });
    const now = Date.now();
    const start = now - 120_000;
    const times = [now - 60_000, now - 30_000];
    const value = (counts: number[], sum: number): HistogramValue => ({ bounds, bucketCounts: counts, count: counts.reduce((a, b) => a + b, 0), sum });
    for (const [w, ts] of times.entries()) {
      const points: MetricPoint[] = Object.entries(input).map(([model, windows]) => ({
        metric: nhcb,
        labels: labels('x', { model }).filter((l) => l.name !== '__name__'),
        timestampMs: ts,
        startTimestampMs: start,
        value: value(...windows[w]!),
      }));
      sink.write('acme', points);
      await sink.flush();
    }
    // Then qwen-max ends: a stale point (the histogram with the stale NaN as sum).
    const staleAt = now - 10_000;
    sink.write('acme', [{ metric: nhcb, labels: labels('x', { model: 'qwen-max' }).filter((l) => l.name !== '__name__'), timestampMs: staleAt, value: undefined }]);
    await sink.flush();
    await sink.close();
    return { registry, now, start, times, staleAt };
  }

  it('stores each histogram point as one native histogram: count, sum and every bucket exact, a zero histogram at the start', async () => {
    const { registry, now, start, times, staleAt } = await writeInput(prom3.remoteWriteUrl, 'v2');

    expect(await counterValues(registry, 'sluice_remote_write_samples_sent_total')).toEqual({ acme: 5 });
    expect(await counterValues(registry, 'sluice_remote_write_samples_failed_total')).toEqual({});

    // Offline: what the input says each stored histogram must be (the API lists non-empty buckets only).
    const expected = (counts: number[], sum: number): StoredHistogram => ({
      count: counts.reduce((a, b) => a + b, 0),
      sum,
      buckets: counts.flatMap((c, i): [number, number, number][] => (c === 0 ? [] : [[i === 0 ? -Infinity : bounds[i - 1]!, i < bounds.length ? bounds[i]! : Infinity, c]])),
    });
    const zero: StoredHistogram = { count: 0, sum: 0, buckets: [] };
    const stored = await queryHistograms(prom3.url, `rw2_nhcb_latency_seconds{run="${RUN}"}`, 600, Math.ceil(now / 1000) + 1);
    const byModel = Object.fromEntries(stored.map((s) => [s.metric.model, { metric: s.metric, histograms: s.histograms }]));
    expect(byModel).toEqual(
      Object.fromEntries(
        Object.entries(input).map(([model, windows]) => [
          model,
          {
            // One series, named without a suffix; metadata type and unit as labels (type-and-unit-labels).
            metric: { __name__: 'rw2_nhcb_latency_seconds', __type__: 'histogram', __unit__: 'seconds', model, run: RUN },
            histograms: [[start, zero], ...windows.map(([counts, sum], w) => [times[w]!, expected(counts, sum)])],
          },
        ]),
      ),
    );
    // The same through PromQL's native-histogram functions, at the second window.
    const at = Math.floor(times[1]! / 1000) + 1;
    const perModel = async (query: string, time = at) =>
      Object.fromEntries((await queryInstant(prom3.url, query, time)).map((s) => [s.metric.model, s.value]));
    expect(await perModel(`histogram_count(rw2_nhcb_latency_seconds{run="${RUN}"})`)).toEqual({ 'qwen-plus': 10, 'qwen-max': 8 });
    expect(await perModel(`histogram_sum(rw2_nhcb_latency_seconds{run="${RUN}"})`)).toEqual({ 'qwen-plus': 17.25, 'qwen-max': 14.5 });
    // Observations at or below 0.5 s: buckets (-Inf, 0.1] and (0.1, 0.5], a fraction exact at a bound.
    expect(await perModel(`histogram_fraction(-Inf, 0.5, rw2_nhcb_latency_seconds{run="${RUN}"}) * histogram_count(rw2_nhcb_latency_seconds{run="${RUN}"})`)).toEqual({ 'qwen-plus': 5, 'qwen-max': 5 });
    // After its stale point qwen-max is gone at once (no 5-minute lookback); qwen-plus is still there.
    expect(await perModel(`histogram_count(rw2_nhcb_latency_seconds{run="${RUN}"})`, Math.floor(staleAt / 1000) + 1)).toEqual({ 'qwen-plus': 10 });
  });

  it('protocol: auto against a 1.0-only Prometheus 3.x: falls back and stores the histograms classic, every series exact', async () => {
    const { registry, now, times } = await writeInput(prom3v1Only.remoteWriteUrl, 'auto');
    expect(await counterValues(registry, 'sluice_remote_write_protocol_fallbacks_total')).toEqual({ acme: 1 });
    expect(await counterValues(registry, 'sluice_remote_write_samples_sent_total')).toEqual({ acme: 5 });
    expect(await counterValues(registry, 'sluice_remote_write_samples_failed_total')).toEqual({});
    // Offline: the classic series of the input, cumulative in `le`.
    const want: Record<string, [number, number][]> = {};
    const add = (key: string, ts: number, v: number) => (want[key] ??= []).push([ts, v]);
    for (const [model, windows] of Object.entries(input)) {
      for (const [w, [counts, sum]] of windows.entries()) {
        let running = 0;
        counts.forEach((c, i) => add(`__name__=rw2_nhcb_latency_seconds_bucket,le=${i < bounds.length ? String(bounds[i]) : '+Inf'},model=${model}`, times[w]!, (running += c)));
        add(`__name__=rw2_nhcb_latency_seconds_sum,model=${model}`, times[w]!, sum);
        add(`__name__=rw2_nhcb_latency_seconds_count,model=${model}`, times[w]!, running);
      }
    }
    expect(await stored(prom3v1Only.url, `{__name__=~"rw2_nhcb_latency_seconds_.*",run="${RUN}"}`, now)).toEqual(want);
  });

  it('bisects a rejected batch of histograms: every good one stored, the out-of-bounds one counted by reason', async () => {
    const registry = new Registry();
    const tenants = tenantsConfigSchema.parse({
      acme: { endpoint: prom3.remoteWriteUrl, protocol: 'v2', histograms: 'native_custom_buckets', shards: 1, batch: { max_delay: '50ms' } },
    });
    const sink = remoteWriteSinkType.create({ tenants: tenants.tenants }, { logger: silent, registry, shared: (_key, make) => make() });
    const now = Date.now();
    const point = (id: string, ts: number, k: number): MetricPoint => ({
      metric: { ...nhcb, name: 'rw2_nhcb_bisect_seconds' },
      labels: labels('x', { id }).filter((l) => l.name !== '__name__'),
      timestampMs: ts,
      value: { bounds, bucketCounts: [k, 0, 1, 0], count: k + 1, sum: k + 1.5 },
    });
    const metric = point('p', 0, 0).metric;
    // Prime the head so its valid time range starts near now, then one 3 h old histogram among 32 good ones.
    sink.write('acme', [point('prime', now - 1_000, 1)]);
    await sink.flush();
    const batch = Array.from({ length: 32 }, (_, i) => ({ ...point(String(i), now, i), metric }));
    batch.splice(11, 0, { ...point('old', now - 3 * 3_600_000, 1), metric });
    let outcome: unknown;
    sink.write('acme', batch, () => (outcome = 'settled'));
    await sink.flush();
    await sink.close();
    expect(outcome).toBe('settled');
    expect(await counterValues(registry, 'sluice_remote_write_samples_sent_total')).toEqual({ acme: 33 });
    expect(await counterValues(registry, 'sluice_remote_write_samples_failed_total')).toEqual({ out_of_bounds: 1 });
    const stored = await queryHistograms(prom3.url, `rw2_nhcb_bisect_seconds{run="${RUN}"}`, 4 * 3600, Math.ceil(now / 1000) + 1);
    expect(Object.fromEntries(stored.map((s) => [s.metric.id, s.histograms.map(([ts, h]) => [ts, h.count, h.sum])]))).toEqual({
      prime: [[now - 1_000, 2, 2.5]],
      ...Object.fromEntries(Array.from({ length: 32 }, (_, i) => [String(i), [[now, i + 1, i + 1.5]]])),
    });
  });
});
