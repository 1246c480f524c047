import { describe, expect, it } from 'vitest';
import type { MetricDescriptor, MetricPoint } from '../../../src/core/metric-model.ts';
import { invalidPoint, OtlpRequestEncoder } from '../../../src/sinks/otlp/encode.ts';
import { decodeExportRequest, readPartialSuccess } from '../../../src/sinks/otlp/proto.ts';

const requests: MetricDescriptor = { name: 'requests', type: 'counter', unit: '{request}', help: 'Requests served.' };
const temperature: MetricDescriptor = { name: 'temperature', type: 'gauge', unit: 'Cel', help: '' };
const latency: MetricDescriptor = { name: 'latency', type: 'histogram', unit: 's', help: 'Latency.' };
const sizes: MetricDescriptor = { name: 'sizes', type: 'summary', unit: 'By', help: '' };
const labels = [{ name: 'route', value: '/a' }];
const T = 1_764_500_000_123;

const points: MetricPoint[] = [
  { metric: requests, labels, timestampMs: T, startTimestampMs: T - 60_000, value: 42 },
  { metric: temperature, labels, timestampMs: T, value: -3.5 },
  { metric: latency, labels, timestampMs: T, startTimestampMs: T - 60_000, value: { bounds: [0.1, 1], bucketCounts: [1, 2, 3], count: 6, sum: 7.25 } },
  { metric: sizes, labels, timestampMs: T, value: { quantiles: [{ quantile: 0.5, value: 10 }, { quantile: 0.99, value: 99 }], count: 4, sum: 120 } },
  { metric: requests, labels: [{ name: 'route', value: '/b' }], timestampMs: T, startTimestampMs: T - 1000, value: undefined },
];

const nanos = (ms: number) => `${ms}000000`;

function attrs(route: string) {
  return [
    { key: 'route', value: { stringValue: route } },
    { key: 'tenant', value: { stringValue: 'acme' } },
  ];
}

// The OTLP/JSON form of `points` for tenant "acme": what both encodings must carry.
const expected = {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sluice' } }] },
      scopeMetrics: [
        {
          scope: { name: 'sluice', version: '0.1.0' },
          metrics: [
            {
              name: 'requests',
              description: 'Requests served.',
              unit: '{request}',
              sum: {
                aggregationTemporality: 2,
                isMonotonic: true,
                dataPoints: [
                  { attributes: attrs('/a'), startTimeUnixNano: nanos(T - 60_000), timeUnixNano: nanos(T), asDouble: 42 },
                  { attributes: attrs('/b'), startTimeUnixNano: nanos(T - 1000), timeUnixNano: nanos(T), flags: 1 },
                ],
              },
            },
            { name: 'temperature', unit: 'Cel', gauge: { dataPoints: [{ attributes: attrs('/a'), timeUnixNano: nanos(T), asDouble: -3.5 }] } },
            {
              name: 'latency',
              description: 'Latency.',
              unit: 's',
              histogram: {
                aggregationTemporality: 2,
                dataPoints: [
                  {
                    attributes: attrs('/a'),
                    startTimeUnixNano: nanos(T - 60_000),
                    timeUnixNano: nanos(T),
                    count: '6',
                    sum: 7.25,
                    bucketCounts: ['1', '2', '3'],
                    explicitBounds: [0.1, 1],
                  },
                ],
              },
            },
            {
              name: 'sizes',
              unit: 'By',
              summary: {
                dataPoints: [
                  {
                    attributes: attrs('/a'),
                    timeUnixNano: nanos(T),
                    count: '4',
                    sum: 120,
                    quantileValues: [
                      { quantile: 0.5, value: 10 },
                      { quantile: 0.99, value: 99 },
                    ],
                  },
                ],
              },
            },
          ],
        },
      ],
    },
  ],
};

describe('OtlpRequestEncoder', () => {
  const encoder = new OtlpRequestEncoder({ 'service.name': 'sluice' }, { tenant: 'acme' });

  it('encodes every kind as protobuf: one resource, one scope, one metric per descriptor, cumulative, exact nanoseconds', () => {
    expect(decodeExportRequest(encoder.encodeProto(points))).toEqual(expected);
  });

  it('encodes the same request as OTLP/JSON', () => {
    expect(JSON.parse(new TextDecoder().decode(encoder.encodeJson(points)))).toEqual(expected);
  });

  it("lets the tenant's extra labels win over a data label of the same name", () => {
    const request = decodeExportRequest(encoder.encodeProto([{ metric: temperature, labels: [{ name: 'tenant', value: 'evil' }], timestampMs: T, value: 1 }]));
    expect(JSON.stringify(request)).not.toContain('evil');
  });

  it('names points a receiver could not take', () => {
    expect(points.map(invalidPoint)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(invalidPoint({ metric: latency, labels, timestampMs: T, value: 3 })).toMatch(/histogram/);
    expect(invalidPoint({ metric: latency, labels, timestampMs: T, value: { bounds: [1], bucketCounts: [1], count: 1, sum: 1 } })).toMatch(/bucket/);
    expect(invalidPoint({ metric: requests, labels, timestampMs: 1.5, value: 3 })).toMatch(/timestamp/);
    expect(invalidPoint({ metric: requests, labels, timestampMs: T, startTimestampMs: T + 1, value: 3 })).toMatch(/start/);
    expect(invalidPoint({ metric: sizes, labels, timestampMs: T, value: 3 })).toMatch(/summary/);
  });
});

describe('readPartialSuccess', () => {
  it('reads rejected points from a JSON body, and treats an empty or unreadable body as full success', () => {
    const body = new TextEncoder().encode(JSON.stringify({ partialSuccess: { rejectedDataPoints: '3', errorMessage: 'out of order' } }));
    expect(readPartialSuccess(body, true)).toEqual({ rejectedDataPoints: 3, errorMessage: 'out of order' });
    expect(readPartialSuccess(new Uint8Array(0), false)).toBeUndefined();
    expect(readPartialSuccess(new TextEncoder().encode('{}'), true)).toBeUndefined();
    expect(readPartialSuccess(new TextEncoder().encode('not json'), true)).toBeUndefined();
  });

  it('reads a protobuf body (partial_success = 1 { rejected_data_points = 1, error_message = 2 })', () => {
    const body = Uint8Array.from([0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, 0x78]);
    expect(readPartialSuccess(body, false)).toEqual({ rejectedDataPoints: 2, errorMessage: 'x' });
  });
});
