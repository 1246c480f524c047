import { compressSync } from 'snappy';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistogramValue, MetricDescriptor, MetricPoint } from '../../../src/core/metric-model.ts';
import { isStaleMarker, STALE_NAN_LE_BYTES } from '../../../src/core/stale-marker.ts';
import { SampleFlattener } from '../../../src/sinks/prometheus/flatten.ts';
import { isHistogramSample } from '../../../src/sinks/prometheus/histogram-sample.ts';
import { decodeRequestBody } from '../../../src/sinks/remote-write/encode.ts';
import { decodeV2RequestBody } from '../../../src/sinks/remote-write/proto-v2.ts';
import type { DecodedV2Histogram } from '../../../src/sinks/remote-write/proto-v2.ts';
import { V2Encoder } from '../../../src/sinks/remote-write/request-encoder.ts';
import { TenantSender } from '../../../src/sinks/remote-write/sender.ts';
import type { WriteOutcome } from '../../../src/sinks/remote-write/sender.ts';
import { batchOf, captureLogger, config, labels, RecordingEvents, seriesRef, TestReceiver } from './fixtures.ts';

/**
 * Native histograms with custom buckets (schema -53) on the 2.0 wire, read back with protobufjs
 * (proto-v2.ts) and turned back into per-bucket counts here, independently of the encoder, with
 * the checks Prometheus' model/histogram Validate makes for custom buckets.
 */

const latency: MetricDescriptor = { name: 'latency_seconds', type: 'histogram', unit: 's', help: 'Request latency.', bounds: [0.1, 1, 10] };
const series = seriesRef('latency_seconds', { model: 'qwen-plus' });

function histogram(bounds: readonly number[], bucketCounts: readonly number[], sum: number): HistogramValue {
  return { bounds, bucketCounts, count: bucketCounts.reduce((a, b) => a + b, 0), sum };
}

/** Per-bucket counts (the +Inf bucket last) from spans and deltas or counts, as a receiver reads them. */
function bucketsOf(h: DecodedV2Histogram): number[] {
  const counts = new Array<number>(h.customValues.length + 1).fill(0);
  const integer = h.count !== undefined && 'int' in h.count;
  const values = integer ? h.positiveDeltas : h.positiveCounts;
  let index = 0;
  let k = 0;
  let previous = 0;
  for (const span of h.positiveSpans) {
    expect(span.offset).toBeGreaterThanOrEqual(0);
    index += span.offset;
    for (let j = 0; j < span.length; j++) {
      const count = integer ? previous + values[k++]! : values[k++]!;
      previous = count;
      expect(index).toBeLessThan(counts.length);
      counts[index++] = count;
    }
  }
  expect(k).toBe(values.length);
  return counts;
}

/** What Prometheus' Validate requires of a custom-buckets histogram, beyond the spans. */
function expectValidCustomBuckets(h: DecodedV2Histogram): void {
  expect(h.schema).toBe(-53);
  expect(h.zeroThreshold).toBe(0);
  expect(h.negativeSpans).toEqual([]);
  expect(h.negativeDeltas).toEqual([]);
  expect(h.negativeCounts).toEqual([]);
  for (let i = 1; i < h.customValues.length; i++) expect(h.customValues[i]!).toBeGreaterThan(h.customValues[i - 1]!);
  for (const bound of h.customValues) expect(Number.isFinite(bound)).toBe(true);
  const count = h.count === undefined ? 0 : 'int' in h.count ? h.count.int : h.count.float;
  if (!Number.isNaN(h.sum)) expect(bucketsOf(h).reduce((a, b) => a + b, 0)).toBe(count);
}

function encodeOne(value: HistogramValue, ts = 2_000, start = 1_000): { h: DecodedV2Histogram; body: Buffer } {
  const batch = batchOf([{ ref: series, value: value.count, ts, start, metric: latency, histogram: value }]);
  const body = Buffer.from(new V2Encoder(2).encode(batch, 0, 1));
  const decoded = decodeV2RequestBody(compressSync(body)).series;
  expect(decoded).toHaveLength(1);
  expect(decoded[0]!.labels).toEqual(series.labels);
  expect(decoded[0]!.samples).toEqual([]);
  expect(decoded[0]!.metadata).toEqual({ type: 'histogram', help: 'Request latency.', unit: 's' });
  expect(decoded[0]!.histograms).toHaveLength(1);
  const h = decoded[0]!.histograms![0]!;
  expectValidCustomBuckets(h);
  return { h, body };
}

describe('native histogram with custom buckets: encoding', () => {
  it('carries count_int, sum, schema -53, zero_count 0, the bounds, the timestamp and the start timestamp', () => {
    const { h } = encodeOne(histogram([0.1, 1, 10], [2, 3, 0, 1], 7.25));
    expect(h).toMatchObject({
      count: { int: 6 },
      sum: 7.25,
      schema: -53,
      zeroCount: { int: 0 },
      customValues: [0.1, 1, 10],
      timestampMs: 2_000,
      startTimestampMs: 1_000,
      resetHint: 0,
    });
    // One span: the empty third bucket stays inside it; deltas from the previous bucket.
    expect(h.positiveSpans).toEqual([{ offset: 0, length: 4 }]);
    expect(h.positiveDeltas).toEqual([2, 1, -3, 1]);
    expect(bucketsOf(h)).toEqual([2, 3, 0, 1]);
  });

  it.each([
    ['nothing counted: no spans', [0.1, 1, 10], [0, 0, 0, 0], [], []],
    ['a single bucket', [0.1, 1, 10], [0, 5, 0, 0], [{ offset: 1, length: 1 }], [5]],
    ['only the +Inf bucket', [0.1, 1, 10], [0, 0, 0, 7], [{ offset: 3, length: 1 }], [7]],
    ['no finite bound at all', [], [4], [{ offset: 0, length: 1 }], [4]],
    [
      'many buckets: gaps of up to two stay in a span, longer ones start a new span',
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      [3, 0, 0, 4, 0, 0, 0, 2, 9, 0, 1, 0, 0, 0, 0, 6],
      [
        { offset: 0, length: 4 },
        { offset: 3, length: 4 },
        { offset: 4, length: 1 },
      ],
      [3, -3, 0, 4, -2, 7, -9, 1, 5],
    ],
  ])('%s', (_name, bounds, counts, spans, deltas) => {
    const { h } = encodeOne(histogram(bounds, counts, 1.5));
    expect(h.positiveSpans).toEqual(spans);
    expect(h.positiveDeltas).toEqual(deltas);
    expect(h.customValues).toEqual(bounds);
    expect(bucketsOf(h)).toEqual(counts);
  });

  it('large counts stay exact; counts that are not whole numbers go as a float histogram', () => {
    const big = 2 ** 40 + 3;
    expect(bucketsOf(encodeOne(histogram([1], [big, 1], 0)).h)).toEqual([big, 1]);
    const { h } = encodeOne(histogram([0.1, 1, 10], [0.5, 1.5, 0, 0], 3));
    expect(h.count).toEqual({ float: 2 });
    expect(h.zeroCount).toBeUndefined();
    expect(h.positiveDeltas).toEqual([]);
    expect(h.positiveCounts).toEqual([0.5, 1.5]);
    expect(bucketsOf(h)).toEqual([0.5, 1.5, 0, 0]);
  });

  it('a stale point is a histogram with Prometheus\' stale NaN as its sum and nothing counted', () => {
    const [sample] = new SampleFlattener().flatten([{ metric: latency, labels: series.labels.slice(1), timestampMs: 3_000, value: undefined }], [], true);
    expect(isStaleMarker(sample!.value)).toBe(true);
    if (!isHistogramSample(sample!)) throw new Error('a stale histogram point kept whole is a HistogramSample');
    const { h, body } = encodeOne(sample.histogram, 3_000);
    expect(h.count).toEqual({ int: 0 });
    expect(h.positiveSpans).toEqual([]);
    expect(h.customValues).toEqual([0.1, 1, 10]);
    expect(body.includes(Buffer.from([0x19, ...STALE_NAN_LE_BYTES]))).toBe(true);
  });

  it('several points of one series go as one TimeSeries, in timestamp order', () => {
    const one = histogram([0.1, 1, 10], [1, 0, 0, 0], 0.05);
    const two = histogram([0.1, 1, 10], [1, 2, 0, 0], 1.05);
    const batch = batchOf([
      { ref: series, value: 3, ts: 3_000, start: 1_000, metric: latency, histogram: two },
      { ref: series, value: 1, ts: 2_000, start: 1_000, metric: latency, histogram: one },
    ]);
    const [decoded] = decodeV2RequestBody(compressSync(Buffer.from(new V2Encoder(2).encode(batch, 0, 2)))).series;
    expect(decoded!.histograms!.map((h) => [h.timestampMs, bucketsOf(h), h.sum])).toEqual([
      [2_000, [1, 0, 0, 0], 0.05],
      [3_000, [1, 2, 0, 0], 1.05],
    ]);
  });
});

describe('native histograms through a tenant sender', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });

  const requests: MetricDescriptor = { name: 'requests_total', type: 'counter', unit: '', help: '' };
  const points = (ts: number, k: number): MetricPoint[] => [
    { metric: latency, labels: [{ name: 'model', value: 'a' }], timestampMs: ts, startTimestampMs: 1_000, value: histogram([0.1, 1, 10], [k, 2 * k, 0, 1], 2.5 * k) },
    { metric: latency, labels: [{ name: 'model', value: 'b' }], timestampMs: ts, startTimestampMs: 1_000, value: histogram([0.1, 1, 10], [0, 0, 0, k], 20 * k) },
    { metric: requests, labels: [{ name: 'model', value: 'a' }], timestampMs: ts, startTimestampMs: 1_000, value: 10 * k },
  ];

  async function setup(protocol: 'v2' | 'auto') {
    const receiver = await TestReceiver.start();
    const events = new RecordingEvents();
    const sender = new TenantSender({
      tenant: 't',
      config: config({ endpoint: receiver.url, shards: 1, protocol, histograms: 'native_custom_buckets', batch: { max_delay: '1h' }, retry: { initial_backoff: '1ms', max_backoff: '1ms' } }),
      logger: captureLogger().logger,
      events,
    });
    cleanup.push(async () => {
      await sender.close();
      await receiver.stop();
    });
    const flattener = new SampleFlattener();
    const write = (batch: MetricPoint[]) =>
      new Promise<WriteOutcome>((resolve) => {
        sender.write(flattener.flatten(batch, [], true), resolve);
        void sender.flush();
      });
    return { receiver, events, write };
  }

  const writtenHeaders = (samples: number, histograms: number) => ({
    'X-Prometheus-Remote-Write-Samples-Written': String(samples),
    'X-Prometheus-Remote-Write-Histograms-Written': String(histograms),
  });

  it('sends each histogram point as one series and counts Histograms-Written toward what the receiver confirmed', async () => {
    const { receiver, events, write } = await setup('v2');
    receiver.always({ status: 204, headers: writtenHeaders(1, 2) });
    expect(await write(points(2_000, 1))).toEqual({ delivered: 3, failed: 0, filtered: 0 });
    const decoded = decodeV2RequestBody(receiver.requests[0]!.body).series;
    expect(decoded.map((s) => [s.labels, s.samples.length, s.histograms?.map(bucketsOf)])).toEqual([
      [labels('latency_seconds', { model: 'a' }), 0, [[1, 2, 0, 1]]],
      [labels('latency_seconds', { model: 'b' }), 0, [[0, 0, 0, 1]]],
      [labels('requests_total', { model: 'a' }), 1, undefined],
    ]);
    expect(events.calls).toEqual(['sent t 3']);
  });

  it('fails the histograms the receiver did not confirm (not_written)', async () => {
    const { receiver, events, write } = await setup('v2');
    receiver.always({ status: 204, headers: writtenHeaders(1, 0) });
    expect(await write(points(2_000, 1))).toEqual({ delivered: 1, failed: 2, filtered: 0 });
    expect(events.calls).toEqual(['sent t 1', 'failed t 2 not_written']);
  });

  it('auto after a 415: the queued histograms are resent classic, exactly as a classic tenant sends them', async () => {
    const { receiver, events, write } = await setup('auto');
    receiver.script({ status: 415, body: 'unsupported' });
    expect(await write(points(2_000, 1))).toEqual({ delivered: 3, failed: 0, filtered: 0 });
    expect(await write(points(3_000, 2))).toEqual({ delivered: 3, failed: 0, filtered: 0 });
    expect(receiver.requests.map((r) => r.headers['x-prometheus-remote-write-version'])).toEqual(['2.0.0', '0.1.0', '0.1.0']);
    const classic = (ts: number, k: number) =>
      new SampleFlattener()
        .flatten(points(ts, k))
        .map((s) => ({ labels: s.labels, value: s.value, timestampMs: s.timestampMs }))
        .sort((x, y) => (JSON.stringify(x.labels) < JSON.stringify(y.labels) ? -1 : 1));
    const received = (i: number) => decodeRequestBody(receiver.requests[i]!.body).sort((x, y) => (JSON.stringify(x.labels) < JSON.stringify(y.labels) ? -1 : 1));
    expect(received(1)).toEqual(classic(2_000, 1));
    expect(received(2)).toEqual(classic(3_000, 2));
    expect(events.calls).toEqual(['sent t 3', 'sent t 3']);
  });

  it('folds histograms over max_active_series into one overflow histogram, bucket by bucket', async () => {
    const receiver = await TestReceiver.start();
    const sender = new TenantSender({
      tenant: 't',
      config: { ...config({ endpoint: receiver.url, shards: 1, protocol: 'v2', batch: { max_delay: '1h' } }), limits: { max_active_series: 1, series_ttl: 60_000, max_label_name_length: 1024, max_label_value_length: 2048, max_labels_per_series: 30 } },
      logger: captureLogger().logger,
    });
    cleanup.push(async () => {
      await sender.close();
      await receiver.stop();
    });
    receiver.always({ status: 204, headers: writtenHeaders(0, 2) });
    const models = ['a', 'b', 'c'];
    const samples = new SampleFlattener().flatten(
      models.map((model, k) => ({ metric: latency, labels: [{ name: 'model', value: model }], timestampMs: 2_000, value: histogram([0.1, 1, 10], [k, 1, 0, 2], k + 0.5) })),
      [],
      true,
    );
    const outcome = await new Promise<WriteOutcome>((resolve) => {
      sender.write(samples, resolve);
      void sender.flush();
    });
    expect(outcome).toEqual({ delivered: 3, failed: 0, filtered: 0 });
    const decoded = decodeV2RequestBody(receiver.requests[0]!.body).series;
    expect(decoded.map((s) => [s.labels, s.histograms!.map((h) => [bucketsOf(h), h.count, h.sum])])).toEqual([
      [labels('latency_seconds', { model: 'a' }), [[[0, 1, 0, 2], { int: 3 }, 0.5]]],
      [labels('latency_seconds', { otel_metric_overflow: 'true' }), [[[3, 2, 0, 4], { int: 9 }, 4]]],
    ]);
  });
});
