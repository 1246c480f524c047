import { uncompressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/core/types.ts';
import { buildRequestBody, decodeRequestBody, labelProblem } from '../../../src/sinks/remote-write/encode.ts';
import { decodeWriteRequest, encodeWriteRequest } from '../../../src/sinks/remote-write/proto.ts';
import { labels, sample } from './fixtures.ts';

describe('encodeWriteRequest (wire format)', () => {
  it('produces the exact upstream bytes for one series with one sample', () => {
    const bytes = encodeWriteRequest([{ labels: labels('up'), samples: [{ value: 1, timestampMs: 1000 }] }]);
    // WriteRequest.timeseries(1) { TimeSeries.labels(1) { name(1)="__name__" value(2)="up" }
    //   TimeSeries.samples(2) { value(1)=double 1.0, timestamp(2)=varint 1000 } }
    const expected =
      '0a1e' + // field 1, length 30
      '0a0e' + '0a085f5f6e616d655f5f' + '12027570' + // label
      '120c' + '09000000000000f03f' + '10e807'; // sample
    expect(Buffer.from(bytes).toString('hex')).toBe(expected);
  });

  it('decodes metadata (field 3) instead of failing on it', () => {
    // WriteRequest.metadata(3) { type(1)=COUNTER(1), metric_family_name(2)="x" }
    const bytes = Buffer.from('1a05' + '0801' + '120178', 'hex');
    expect(decodeWriteRequest(bytes)).toEqual({
      timeseries: [],
      metadata: [{ type: 'COUNTER', metricFamilyName: 'x', help: '', unit: '' }],
    });
  });
});

describe('buildRequestBody', () => {
  it('round-trips through snappy and protobuf', () => {
    const input: Sample[] = [
      sample('http_requests_total', 42, 1_700_000_000_000, { job: 'api', code: '200' }),
      sample('up', 1, 1_700_000_000_500, { job: 'api' }),
    ];
    const { body, accepted, series, rejected } = buildRequestBody(input);
    expect({ accepted, series, rejected }).toEqual({ accepted: 2, series: 2, rejected: [] });
    expect(decodeRequestBody(body)).toEqual(input);
  });

  it('uses the snappy block format (uncompressed length varint first, no stream identifier)', () => {
    const { body } = buildRequestBody([sample('up', 1, 1000)]);
    const raw = uncompressSync(body, { asBuffer: true }) as Buffer;
    expect(raw.length).toBe(32);
    expect(body[0]).toBe(32); // varint(32) is one byte; a framed stream would start with 0xff
  });

  it('groups samples of one series into one TimeSeries, in first-seen series order, sorted by time', () => {
    const a = { job: 'a' };
    const b = { job: 'b' };
    const { body, series } = buildRequestBody([
      sample('m', 3, 3000, a),
      sample('m', 10, 1000, b),
      sample('m', 1, 1000, a),
      sample('m', 2, 2000, a),
      sample('m', 20, 2000, b),
    ]);
    expect(series).toBe(2);
    const decoded = decodeWriteRequest(uncompressSync(body, { asBuffer: true }) as Buffer);
    expect(decoded.timeseries).toEqual([
      {
        labels: labels('m', a),
        samples: [
          { value: 1, timestampMs: 1000 },
          { value: 2, timestampMs: 2000 },
          { value: 3, timestampMs: 3000 },
        ],
      },
      {
        labels: labels('m', b),
        samples: [
          { value: 10, timestampMs: 1000 },
          { value: 20, timestampMs: 2000 },
        ],
      },
    ]);
  });

  it('keeps arrival order for equal timestamps (stable sort)', () => {
    const out = decodeRequestBody(
      buildRequestBody([sample('m', 1, 2000), sample('m', 2, 1000), sample('m', 3, 1000)]).body,
    );
    expect(out.map((s) => s.value)).toEqual([2, 3, 1]);
  });

  it('encodes int64 timestamps beyond 2^32 and 2^40 ms exactly', () => {
    // 2^32 ms is only ~50 days after the epoch, so every real timestamp needs the int64 path.
    const big = 2 ** 40 + 12_345;
    const far = 4_102_444_800_000; // 2100-01-01
    const out = decodeRequestBody(buildRequestBody([sample('m', 1, big), sample('m', 2, far), sample('m', 3, 0)]).body);
    expect(out.map((s) => s.timestampMs)).toEqual([0, big, far]);
  });

  it('keeps special float values: NaN, +Inf, -Inf, -0', () => {
    const out = decodeRequestBody(
      buildRequestBody([
        sample('m', Number.NaN, 1),
        sample('m', Number.POSITIVE_INFINITY, 2),
        sample('m', Number.NEGATIVE_INFINITY, 3),
        sample('m', -0, 4),
      ]).body,
    );
    expect(out.map((s) => s.value)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
    expect(Object.is(out[3]!.value, -0)).toBe(true);
  });

  it('does not merge series whose labels only collide when joined with "\\xff"', () => {
    // With a plain '\xff' separator both label sets would read "a\xff1\xffb\xff2\xff".
    const one = [{ name: '__name__', value: 'm' }, { name: 'a', value: '1\xffb\xff2' }];
    const two = [{ name: '__name__', value: 'm' }, { name: 'a', value: '1' }, { name: 'b', value: '2' }];
    const result = buildRequestBody([
      { labels: one, value: 1, timestampMs: 1 },
      { labels: two, value: 2, timestampMs: 1 },
    ]);
    expect(result.series).toBe(2);
    expect(decodeRequestBody(result.body).map((s) => s.labels)).toEqual([one, two]);
  });

  it('rejects invalid samples with a reason and still sends the valid ones', () => {
    const valid = sample('ok', 1, 1000);
    const bad: [Sample, string][] = [
      [{ labels: [{ name: '__name__', value: 'm' }, { name: '1abc', value: 'x' }], value: 1, timestampMs: 1 }, 'label name "1abc" is invalid'],
      [{ labels: [{ name: '__name__', value: 'm' }, { name: 'a-b', value: 'x' }], value: 1, timestampMs: 1 }, 'label name "a-b" is invalid'],
      [{ labels: [{ name: '__name__', value: '9m' }], value: 1, timestampMs: 1 }, 'metric name "9m" is invalid'],
      [{ labels: [{ name: '__name__', value: 'm' }, { name: 'job', value: '' }], value: 1, timestampMs: 1 }, 'label "job" has an empty value'],
      [{ labels: [{ name: 'job', value: 'x' }, { name: '__name__', value: 'm' }], value: 1, timestampMs: 1 }, 'labels are not sorted by name ("__name__" after "job")'],
      [{ labels: [{ name: '__name__', value: 'm' }, { name: 'a', value: 'x' }, { name: 'a', value: 'y' }], value: 1, timestampMs: 1 }, 'duplicate label name "a"'],
      [{ labels: [{ name: 'job', value: 'x' }], value: 1, timestampMs: 1 }, 'missing __name__ label'],
      [{ labels: [], value: 1, timestampMs: 1 }, 'missing __name__ label'],
      [{ labels: [{ name: '__name__', value: 'm' }, { name: 'a', value: 'x\uD800' }], value: 1, timestampMs: 1 }, 'label "a" has a value that is not valid UTF-8'],
      [sample('m', 1, 1.5), 'timestamp 1.5 is not an integer number of milliseconds'],
    ];
    const result = buildRequestBody([bad[0]![0], valid, ...bad.slice(1).map(([s]) => s)]);
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual(bad.map(([s, reason]) => ({ sample: s, reason })));
    expect(decodeRequestBody(result.body)).toEqual([valid]);
  });

  it('validates a shared labels array once per request but rejects each of its samples', () => {
    const shared = [{ name: '__name__', value: 'm' }, { name: 'bad-name', value: 'x' }];
    const result = buildRequestBody([
      { labels: shared, value: 1, timestampMs: 1 },
      { labels: shared, value: 2, timestampMs: 2 },
    ]);
    expect(result.rejected.map((r) => [r.sample.value, r.reason])).toEqual([
      [1, 'label name "bad-name" is invalid'],
      [2, 'label name "bad-name" is invalid'],
    ]);
  });

  it('accepts colons in metric names but not in label names', () => {
    expect(labelProblem(labels('job:rate5m', { le: '0.5' }))).toBeUndefined();
    expect(labelProblem([{ name: '__name__', value: 'm' }, { name: 'a:b', value: 'x' }])).toBe('label name "a:b" is invalid');
  });

  it('encodes an empty request when every sample is rejected', () => {
    const result = buildRequestBody([{ labels: [], value: 1, timestampMs: 1 }]);
    expect(result.accepted).toBe(0);
    expect(decodeRequestBody(result.body)).toEqual([]);
  });
});
