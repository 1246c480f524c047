/**
 * OTLP sink benchmark: `node --import tsx test/bench/otlp-bench.ts` (SLUICE_BENCH_QUICK=1 for a shorter run).
 *
 * Gateway workload: per window, 2000 series of model-gateway labels (api, instance, model,
 * tenant_app), each with a requests counter, an in-flight gauge and a latency histogram of 10
 * buckets; points carry start times, as stage 2 emits them.
 *
 * 1. bytes per sample on the wire: OTLP protobuf+gzip (the default), protobuf, JSON+gzip, beside
 *    remote-write 1.0 protobuf+snappy of the same data flattened (a histogram point is 13 samples:
 *    12 `_bucket`, `_sum`, `_count`), all per Prometheus sample and per request of 2000 points;
 * 2. samples per CPU-second through OtlpSink.write → batch → encode → gzip with an instant
 *    in-process receiver (no HTTP): what the sink costs one core.
 */
import { pino } from 'pino';
import { gzipSync } from 'node:zlib';
import { compressSync } from 'snappy';
import type { MetricDescriptor, MetricPoint } from '../../src/core/metric-model.ts';
import type { Label } from '../../src/core/types.ts';
import { OtlpRequestEncoder } from '../../src/sinks/otlp/encode.ts';
import { OtlpSink, type OtlpTenant } from '../../src/sinks/otlp/index.ts';
import { tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { encodeWriteRequest, type WireSeries } from '../../src/sinks/remote-write/proto.ts';

const quick = process.env.SLUICE_BENCH_QUICK === '1';
const SERIES = 2000;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const requests: MetricDescriptor = { name: 'gateway_requests', type: 'counter', unit: '{request}', help: 'Calls served.' };
const inflight: MetricDescriptor = { name: 'gateway_inflight', type: 'gauge', unit: '{request}', help: 'Calls in flight.' };
const latency: MetricDescriptor = { name: 'gateway_latency', type: 'histogram', unit: 's', help: 'Call latency.' };

const labelSets: Label[][] = Array.from({ length: SERIES }, (_, i) => [
  { name: 'api', value: ['chat', 'embed', 'rerank'][i % 3]! },
  { name: 'instance', value: `gateway-${i % 16}` },
  { name: 'model', value: `model-${i % 97}` },
  { name: 'series', value: String(i) },
  { name: 'tenant_app', value: `app-${i % 31}` },
]);

/** One window's points (3 per series), values moving with `k` as real counters do. */
function windowPoints(k: number, t: number): MetricPoint[] {
  const start = t - 3_600_000;
  return labelSets.flatMap((labels, i) => {
    const counts = BOUNDS.map((_, b) => (i + b + k) % 7).concat([(i + k) % 3]);
    const count = counts.reduce((a, b) => a + b, 0);
    return [
      { metric: requests, labels, timestampMs: t, startTimestampMs: start, value: 1000 * k + i },
      { metric: inflight, labels, timestampMs: t, value: (i * 7 + k) % 23 },
      { metric: latency, labels, timestampMs: t, startTimestampMs: start, value: { bounds: BOUNDS, bucketCounts: counts, count, sum: count * 0.137 } },
    ];
  });
}

/** Prometheus samples a point stands for: 1, or buckets + 1 (+Inf) + _sum + _count for a histogram. */
function samplesOf(points: readonly MetricPoint[]): number {
  return points.reduce((n, p) => n + (p.metric.type === 'histogram' ? BOUNDS.length + 3 : 1), 0);
}

/** The same points as remote-write 1.0 series (cumulative `le` buckets), for comparison. */
function flatten(points: readonly MetricPoint[]): WireSeries[] {
  const out: WireSeries[] = [];
  const series = (name: string, labels: readonly Label[], value: number, t: number, extra?: Label) =>
    out.push({ labels: [{ name: '__name__', value: name }, ...labels, ...(extra ? [extra] : [])], samples: [{ value, timestampMs: t }] });
  for (const p of points) {
    if (typeof p.value === 'number') series(p.metric.name, p.labels, p.value, p.timestampMs);
    else if (p.value !== undefined && 'bucketCounts' in p.value) {
      let cumulative = 0;
      p.value.bucketCounts.forEach((c, b) => {
        cumulative += c;
        series(`${p.metric.name}_bucket`, p.labels, cumulative, p.timestampMs, { name: 'le', value: b < BOUNDS.length ? String(BOUNDS[b]) : '+Inf' });
      });
      series(`${p.metric.name}_sum`, p.labels, p.value.sum, p.timestampMs);
      series(`${p.metric.name}_count`, p.labels, p.value.count, p.timestampMs);
    }
  }
  return out;
}

function benchBytes(): void {
  const points = windowPoints(3, 1_764_500_000_000).slice(0, 2000);
  const samples = samplesOf(points);
  const encoder = new OtlpRequestEncoder({ 'service.name': 'sluice' }, { tenant: 'acme' });
  const proto = encoder.encodeProto(points);
  const json = encoder.encodeJson(points);
  const rw1 = compressSync(Buffer.from(encodeWriteRequest(flatten(points))));
  const row = (what: string, bytes: number) =>
    console.log(`  ${what.padEnd(28)} ${String(bytes).padStart(9)} B  ${(bytes / samples).toFixed(2).padStart(6)} B/sample  ${(bytes / points.length).toFixed(1).padStart(6)} B/point`);
  console.log(`bytes on the wire, one request of ${points.length} points = ${samples} Prometheus samples:`);
  row('otlp protobuf + gzip', gzipSync(proto).byteLength);
  row('otlp protobuf', proto.byteLength);
  row('otlp json + gzip', gzipSync(json).byteLength);
  row('remote-write 1.0 + snappy', rw1.byteLength);
}

async function benchCpu(): Promise<void> {
  const section = tenantsConfigSchema.parse({ acme: { sink: { type: 'otlp', endpoint: 'http://127.0.0.1:9/otlp', batch: { max_delay: '1ms' } } } });
  const sink = new OtlpSink(section.tenants as Record<string, OtlpTenant>, {
    logger: pino({ level: 'silent' }),
    send: async () => ({ kind: 'success', status: 200 }),
  });
  const windows = quick ? 10 : 40;
  const prepared = Array.from({ length: windows }, (_, k) => windowPoints(k, 1_764_500_000_000 + k * 10_000));
  // Warm-up, then measure.
  await new Promise((resolve) => sink.write('acme', prepared[0]!, resolve));
  const cpu = process.cpuUsage();
  const wall = performance.now();
  let samples = 0;
  for (const points of prepared) {
    samples += samplesOf(points);
    await new Promise((resolve) => sink.write('acme', points, resolve));
  }
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  await sink.close();
  console.log(
    `sink CPU path: ${windows} windows × ${SERIES * 3} points (${samples.toLocaleString('en-US')} Prometheus samples) in ${cpuSeconds.toFixed(2)} CPU-s, ` +
      `${((performance.now() - wall) / 1000).toFixed(2)} s wall: ${Math.round(samples / cpuSeconds).toLocaleString('en-US')} samples per CPU-second ` +
      `(${Math.round((windows * SERIES * 3) / cpuSeconds).toLocaleString('en-US')} points)`,
  );
}

console.log('== OTLP sink bench (gateway workload)');
benchBytes();
await benchCpu();
