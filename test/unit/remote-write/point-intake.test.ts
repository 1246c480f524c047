import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { MetricDescriptor, MetricPoint } from '../../../src/core/metric-model.ts';
import type { Label } from '../../../src/core/types.ts';
import { SampleFlattener } from '../../../src/sinks/prometheus/flatten.ts';
import { RemoteWritePointSink, RemoteWriteSink, UnknownTenantError } from '../../../src/sinks/remote-write/index.ts';
import type { SendFunction, WriteOutcome } from '../../../src/sinks/remote-write/index.ts';
import { TenantSender } from '../../../src/sinks/remote-write/sender.ts';
import { remoteWriteTenantsSchema as tenantsConfigSchema } from '../../../src/sinks/registry.ts';
import { config, RecordingEvents } from './fixtures.ts';

/**
 * Points written through TenantSender.writePoints (flattened as they are queued, each point's
 * series resolved once) against the same points flattened to Sample objects first and written
 * with write(), the path the sink took before: the same request bytes, outcomes and events.
 */

const counter: MetricDescriptor = { name: 'calls_total', type: 'counter', unit: '', help: 'Calls.' };
const gauge: MetricDescriptor = { name: 'queue_depth', type: 'gauge', unit: '', help: 'Depth.' };
const latency: MetricDescriptor = { name: 'latency_seconds', type: 'histogram', unit: 's', help: 'Latency.', bounds: [0.1, 1] };
const sizes: MetricDescriptor = { name: 'size_bytes', type: 'summary', unit: 'By', help: 'Sizes.', quantiles: [0.5, 0.99] };
const debug: MetricDescriptor = { name: 'debug_total', type: 'counter', unit: '', help: '' };

const base = (app: string): Label[] => [
  { name: 'app', value: app },
  { name: 'model', value: 'qwen' },
];
const bad: Label[] = [{ name: 'bad-name', value: 'x' }];

/** Label arrays built once and reused every window, as stage 2 does. */
const apps = ['a', 'b', 'c'].map(base);

function window(k: number): MetricPoint[] {
  const ts = 60_000 * (k + 1);
  const points: MetricPoint[] = [];
  for (const [i, labels] of apps.entries()) {
    // App c's series end in window 2 (stale points), and come back in window 3.
    const stale = i === 2 && k === 2;
    points.push({ metric: counter, labels, timestampMs: ts, startTimestampMs: 1_000, value: stale ? undefined : 10 * k + i });
    points.push({ metric: gauge, labels, timestampMs: ts, value: stale ? undefined : -k / 3 });
    points.push({
      metric: latency,
      labels,
      timestampMs: ts,
      startTimestampMs: 1_000,
      value: stale ? undefined : { bounds: [0.1, 1], bucketCounts: [k, i, 1], count: k + i + 1, sum: 0.5 * k },
    });
    points.push({
      metric: sizes,
      labels,
      timestampMs: ts,
      value: stale ? undefined : { quantiles: [{ quantile: 0.5, value: 10 + k }, { quantile: 0.99, value: 99 }], count: 4, sum: 80 },
    });
  }
  points.push({ metric: debug, labels: apps[0]!, timestampMs: ts, value: 1 }); // denied
  points.push({ metric: counter, labels: bad, timestampMs: ts, value: 1 }); // invalid label name
  points.push({ metric: counter, labels: apps[1]!, timestampMs: ts + 0.5, value: 1 }); // fractional timestamp
  return points;
}

interface Run {
  readonly bodies: Buffer[];
  readonly outcomes: WriteOutcome[];
  readonly events: string[];
}

async function run(settings: Record<string, unknown>, form: 'points' | 'samples'): Promise<Run> {
  const bodies: Buffer[] = [];
  const send: SendFunction = async (_config, body) => {
    bodies.push(Buffer.from(body));
    return { kind: 'success', status: 204, written: { samples: 1e9, histograms: 1e9, exemplars: 0 } };
  };
  const events = new RecordingEvents();
  const { max_active_series, ...rest } = settings;
  const parsed = config({ endpoint: 'http://127.0.0.1:9/api/v1/write', batch: { max_samples: 16 }, ...rest });
  const limits = { max_active_series: max_active_series as number | undefined, series_ttl: 900_000, max_label_name_length: 1024, max_label_value_length: 2048, max_labels_per_series: 30 };
  const sender = new TenantSender({
    tenant: 'acme',
    config: { ...parsed, metrics: { allow: [], deny: ['debug_.*'] }, extra_labels: { region: 'eu' }, limits },
    logger: pino({ level: 'silent' }),
    events,
    send,
  });
  const native = settings.histograms === 'native_custom_buckets' && settings.protocol !== 'v1';
  const flattener = new SampleFlattener();
  const outcomes: WriteOutcome[] = [];
  for (let k = 0; k < 5; k++) {
    const points = window(k);
    if (form === 'points') sender.writePoints(points, (o) => outcomes.push(o));
    else sender.write(flattener.flatten(points, [], native), (o) => outcomes.push(o));
    await sender.flush();
  }
  await sender.close();
  return { bodies, outcomes, events: events.calls };
}

describe('TenantSender.writePoints', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['1.0', { protocol: 'v1' }],
    ['2.0', { protocol: 'v2' }],
    ['2.0, native histograms', { protocol: 'v2', histograms: 'native_custom_buckets' }],
    ['1.0, over max_active_series (overflow folds)', { protocol: 'v1', max_active_series: 10 }],
  ];
  for (const [name, settings] of cases) {
    it(`sends what the flattened samples would, byte for byte, with the same outcomes (${name})`, async () => {
      const points = await run(settings, 'points');
      const samples = await run(settings, 'samples');
      expect(points.bodies.length).toBeGreaterThan(5);
      expect(points.bodies).toEqual(samples.bodies);
      expect(points.outcomes).toEqual(samples.outcomes);
      expect(points.events).toEqual(samples.events);
      // Every window: the denied point filtered, the bad label and the fractional timestamp failed.
      for (const outcome of points.outcomes) {
        expect(outcome.filtered).toBeGreaterThanOrEqual(1);
        expect(outcome.failed).toBe(2);
      }
    });
  }

  it('counts a point with more values than its series once had as invalid, and still sends the rest', async () => {
    const bodies: Buffer[] = [];
    const sender = new TenantSender({
      tenant: 'acme',
      config: config({ endpoint: 'http://127.0.0.1:9/api/v1/write' }),
      logger: pino({ level: 'silent' }),
      send: async (_config, body) => {
        bodies.push(Buffer.from(body));
        return { kind: 'success', status: 204 };
      },
    });
    const labels = base('a');
    const outcomes: WriteOutcome[] = [];
    sender.writePoints([{ metric: latency, labels, timestampMs: 1_000, value: { bounds: [0.1, 1], bucketCounts: [1, 1, 1], count: 3, sum: 1 } }], (o) => outcomes.push(o));
    // Same descriptor and labels (so the same cached series), one bound more.
    sender.writePoints([{ metric: latency, labels, timestampMs: 2_000, value: { bounds: [0.1, 1, 5], bucketCounts: [1, 1, 1, 1], count: 4, sum: 1 } }], (o) => outcomes.push(o));
    await sender.close();
    expect(outcomes).toEqual([
      { delivered: 5, failed: 0, filtered: 0 },
      { delivered: 5, failed: 1, filtered: 0 },
    ]);
    expect(bodies.length).toBeGreaterThan(0);
  });
});

describe('RemoteWritePointSink', () => {
  it("refuses a tenant past the default route's max_tenants with its points' sample count, and throws for an invalid tenant id", async () => {
    const events = new RecordingEvents();
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({ default_route: { endpoint: 'http://127.0.0.1:9/api/v1/write', max_tenants: 1 } }),
      { logger: pino({ level: 'silent' }), events, send: async () => ({ kind: 'success', status: 204 }) },
    );
    const points = new RemoteWritePointSink(sink);
    const settled: string[] = [];
    const histogram: MetricPoint = { metric: latency, labels: base('a'), timestampMs: 1_000, value: { bounds: [0.1, 1], bucketCounts: [1, 0, 0], count: 1, sum: 0.05 } };
    points.write('zeta', [histogram], () => settled.push('zeta'));
    points.write('theta', [histogram], () => settled.push('theta'));
    expect(() => points.write('bad tenant', [histogram])).toThrow(UnknownTenantError);
    await points.flush();
    await points.close();
    expect(settled.sort()).toEqual(['theta', 'zeta']);
    // A histogram of two bounds is five samples: three buckets, _sum and _count.
    const sent = events.calls.filter((call) => call.startsWith('sent zeta ')).reduce((n, call) => n + Number(call.split(' ')[2]), 0);
    expect(events.calls.filter((call) => !call.startsWith('sent zeta '))).toEqual(['failed theta 5 too_many_tenants']);
    expect(sent).toBe(5);
  });
});
