// The outbox's checkpoint wire (src/runtime/outbox-wire.ts): every kind of point comes back exactly,
// bit for bit, through the checkpoint codec; a version-2 (msgpack arrays) checkpoint still restores;
// a corrupt entry is refused, not misread.
import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../src/codecs/partials/wire-bytes.ts';
import type { MetricDescriptor, MetricPoint } from '../../src/core/metric-model.ts';
import { isStaleMarker, STALE_NAN } from '../../src/core/stale-marker.ts';
import { decodePoints, encodePoints, POINTS_WIRE_V3, type PointsWire } from '../../src/runtime/outbox-wire.ts';
import { packState, unpackState } from '../../src/runtime/repartition-codec.ts';

const counter: MetricDescriptor = { name: 'x_total', type: 'counter', unit: '', help: 'Xs.' };
const gauge: MetricDescriptor = { name: 'temp_celsius', type: 'gauge', unit: 'Cel', help: '' };
const histogram: MetricDescriptor = { name: 'latency_seconds', type: 'histogram', unit: 's', help: 'Latency.', bounds: [0.1, 1] };
const summary: MetricDescriptor = { name: 'ttft_seconds', type: 'summary', unit: 's', help: '', quantiles: [0.5, 0.99] };
const labels = [
  { name: 'model', value: '模型-通义千问' },
  { name: 'tenant_app', value: 'a\ud800b' }, // a lone surrogate: UTF-8 cannot carry it, the wire must
];

const points: MetricPoint[] = [
  { metric: counter, labels, timestampMs: 10_000, startTimestampMs: 0, value: 5 },
  { metric: counter, labels: [], timestampMs: 20_000, startTimestampMs: 1_767_225_600_000.5, value: 2 ** 53 + 2 },
  { metric: gauge, labels, timestampMs: 10_000, value: -0 },
  { metric: gauge, labels, timestampMs: 20_000, value: Number.NaN },
  { metric: gauge, labels, timestampMs: 30_000, value: -1e-300 },
  { metric: histogram, labels, timestampMs: 10_000, startTimestampMs: 0, value: { bounds: [0.1, 1], bucketCounts: [1, 0, 2], count: 3, sum: 7.5 } },
  // Bounds other than the descriptor's (a reload changed them): carried with the point.
  { metric: histogram, labels, timestampMs: 20_000, value: { bounds: [0.5], bucketCounts: [4, 1], count: 5, sum: Infinity } },
  { metric: histogram, labels, timestampMs: 30_000, value: undefined },
  { metric: summary, labels, timestampMs: 10_000, value: { quantiles: [{ quantile: 0.5, value: 0.25 }, { quantile: 0.99, value: 3 }], count: 9, sum: 4.5 } },
];

/** An entry as the outbox stores it (packed) and reads it back from the checkpoint. */
function throughCheckpoint(wire: PointsWire): PointsWire {
  return unpackState<PointsWire>(Buffer.from(packState(wire)));
}

describe('outbox points wire', () => {
  it('round-trips every kind of point exactly, descriptors shared as the live path has them', () => {
    const encoded = encodePoints(points);
    expect(encoded[0]).toBe(POINTS_WIRE_V3);
    const decoded = decodePoints(throughCheckpoint(encoded));
    expect(decoded).toEqual(points);
    expect(Object.is(decoded[2]!.value, -0)).toBe(true);
    expect(decoded[1]!.value).toBe(2 ** 53 + 2);
    expect(decoded[0]!.metric).toBe(decoded[1]!.metric);
    expect(decoded[5]!.metric).toBe(decoded[6]!.metric);
    expect(decoded[2]!.labels[1]!.value).toBe('a\ud800b');
    expect('startTimestampMs' in decoded[2]!).toBe(false);
  });

  it('keeps the exact bits of a stale-marker number', () => {
    const [decoded] = decodePoints(throughCheckpoint(encodePoints([{ metric: gauge, labels: [], timestampMs: 1, value: STALE_NAN }])));
    expect(isStaleMarker(decoded!.value as number)).toBe(true);
  });

  it('writes a label repeated across points once', () => {
    const many = Array.from({ length: 100 }, (_, i): MetricPoint => ({ metric: counter, labels, timestampMs: i * 10_000, value: i }));
    // Per point after the first: descriptor ref, label count, 4 string refs, timestamp, start flag, tag, value.
    expect(encodePoints(many).length).toBeLessThan(100 * 16);
  });

  it('restores a version-2 checkpoint entry (msgpack arrays)', () => {
    // msgpack wrote a lone surrogate as U+FFFD: version 2 never carried one, so this fixture has none.
    const flat = ['model', '模型-通义千问'];
    const v2Labels = [labels[0]!];
    const v2 = {
      v: 2,
      metrics: [
        ['x_total', 'counter', '', 'Xs.', null, null],
        ['latency_seconds', 'histogram', 's', 'Latency.', [0.1, 1], null],
        ['ttft_seconds', 'summary', 's', '', null, [0.5, 0.99]],
      ],
      points: [
        [0, flat, 10_000, 0, 5],
        [1, flat, 10_000, 0, [0, [0.1, 1], [1, 0, 2], 3, 7.5]],
        [1, flat, 30_000, null, null],
        [2, flat, 10_000, null, [1, [0.5, 0.25, 0.99, 3], 9, 4.5]],
      ],
    };
    const packed = packState(v2);
    expect(decodePoints(unpackState<PointsWire>(Buffer.from(packed)))).toEqual([points[0], points[5], points[7], points[8]].map((p) => ({ ...p, labels: v2Labels })));
  });

  it('refuses a cut-short or unknown entry', () => {
    const encoded = encodePoints(points);
    expect(() => decodePoints(encoded.subarray(0, encoded.length - 3))).toThrow(WireFormatError);
    expect(() => decodePoints(Buffer.from([0x7f, 0]))).toThrow(/unknown version 127/);
  });
});
