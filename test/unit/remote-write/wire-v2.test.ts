import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import type { MetricDescriptor } from '../../../src/core/metric-model.ts';
import { STALE_NAN, STALE_NAN_LE_BYTES } from '../../../src/core/stale-marker.ts';
import { decodeV2RequestBody } from '../../../src/sinks/remote-write/proto-v2.ts';
import { V2Encoder } from '../../../src/sinks/remote-write/request-encoder.ts';
import { batchOf, seriesRef as ref } from './fixtures.ts';

const requests: MetricDescriptor = { name: 'requests_total', type: 'counter', unit: '', help: 'Requests served.' };
const latency: MetricDescriptor = { name: 'latency_seconds', type: 'histogram', unit: 's', help: 'Request latency.' };
const queue: MetricDescriptor = { name: 'queue_depth', type: 'gauge', unit: '{request}', help: '' };

const a = ref('requests_total', { model: 'qwen-plus', tenant: 'acme' });
const b = ref('requests_total', { model: 'qwen-max', tenant: 'acme' });
const bucket = ref('latency_seconds_bucket', { le: '0.5', model: 'qwen-plus', tenant: 'acme' });
const depth = ref('queue_depth', { tenant: 'acme' });

describe('remote-write 2.0 request encoding', () => {
  it('interns every string once, with "" first, and resolves every series back exactly', () => {
    const batch = batchOf([
      { ref: a, value: 5, ts: 2_000, start: 1_000, metric: requests },
      { ref: b, value: 7, ts: 2_000, start: 1_500, metric: requests },
      { ref: a, value: 4, ts: 1_900, start: 1_000, metric: requests }, // out of order in the batch
      { ref: bucket, value: 3, ts: 2_000, start: 900, metric: latency },
      { ref: depth, value: 0, ts: 2_000, start: 500, metric: queue }, // a gauge: no start sent; value 0 left out
    ]);
    const { symbols, series } = decodeV2RequestBody(compressSync(Buffer.from(new V2Encoder(8).encode(batch, 0, batch.size))));
    expect(symbols[0]).toBe('');
    expect(new Set(symbols).size).toBe(symbols.length);
    expect(symbols.filter((s) => s === 'tenant' || s === 'acme' || s === 'Requests served.')).toEqual(['tenant', 'acme', 'Requests served.']);
    expect(series).toEqual([
      // Series in key order (series-order.ts), not arrival order.
      { labels: bucket.labels, samples: [{ value: 3, timestampMs: 2_000, startTimestampMs: 900 }], metadata: { type: 'histogram', help: 'Request latency.', unit: 's' } },
      { labels: depth.labels, samples: [{ value: 0, timestampMs: 2_000, startTimestampMs: 0 }], metadata: { type: 'gauge', help: '', unit: '{request}' } },
      { labels: b.labels, samples: [{ value: 7, timestampMs: 2_000, startTimestampMs: 1_500 }], metadata: { type: 'counter', help: 'Requests served.', unit: '' } },
      {
        labels: a.labels,
        samples: [
          { value: 4, timestampMs: 1_900, startTimestampMs: 1_000 },
          { value: 5, timestampMs: 2_000, startTimestampMs: 1_000 },
        ],
        metadata: { type: 'counter', help: 'Requests served.', unit: '' },
      },
    ]);
  });

  it('sends no metadata for a sample without a descriptor, and a range [lo, hi) only', () => {
    const batch = batchOf([
      { ref: a, value: 1, ts: 10 },
      { ref: b, value: 2, ts: 10 },
      { ref: depth, value: 3, ts: 10 },
    ]);
    const { series } = decodeV2RequestBody(compressSync(Buffer.from(new V2Encoder(8).encode(batch, 1, 3))));
    expect(series).toEqual([
      { labels: depth.labels, samples: [{ value: 3, timestampMs: 10, startTimestampMs: 0 }], metadata: undefined },
      { labels: b.labels, samples: [{ value: 2, timestampMs: 10, startTimestampMs: 0 }], metadata: undefined },
    ]);
  });

  it('writes a stale marker with Prometheus\' exact bits', () => {
    const body = Buffer.from(new V2Encoder(2).encode(batchOf([{ ref: depth, value: STALE_NAN, ts: 10, metric: queue }]), 0, 1));
    expect(body.includes(Buffer.from([0x09, ...STALE_NAN_LE_BYTES]))).toBe(true);
  });
});
