import { uncompressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import { isStaleMarker, STALE_NAN, STALE_NAN_BITS, decodeSampleValue, encodeSampleValue } from '../../../src/core/stale-marker.ts';
import { buildRequestBody } from '../../../src/sinks/remote-write/encode.ts';
import { encodeWriteRequest } from '../../../src/sinks/remote-write/proto.ts';
import { varintLength, WriteRequestWriter } from '../../../src/sinks/remote-write/wire.ts';
import { labels, sample } from './fixtures.ts';

function writerBytes(series: { labels: ReturnType<typeof labels>; points: [number, number][] }[]): Buffer {
  const writer = new WriteRequestWriter(16); // tiny, to exercise growth
  writer.reset();
  for (const s of series) {
    const values = new Float64Array(s.points.map((p) => p[0]));
    const timestamps = new Float64Array(s.points.map((p) => p[1]));
    const indices = Uint32Array.from(s.points.keys());
    writer.addSeries(s.labels, values, timestamps, indices, s.points.length);
  }
  return Buffer.from(writer.finish());
}

describe('WriteRequestWriter (golden bytes)', () => {
  it('writes the exact upstream bytes for one series with one sample', () => {
    const expected =
      '0a1e' + // WriteRequest.timeseries, length 30
      '0a0e' + '0a085f5f6e616d655f5f' + '12027570' + // Label { name: "__name__", value: "up" }
      '120c' + '09000000000000f03f' + '10e807'; // Sample { value: 1.0, timestamp: 1000 }
    expect(writerBytes([{ labels: labels('up'), points: [[1, 1000]] }]).toString('hex')).toBe(expected);
  });

  it('matches protobufjs byte for byte on varied input (multi-byte lengths, int64 timestamps, specials, UTF-8)', () => {
    const long = 'v'.repeat(300); // a 2-byte length varint
    const series = [
      { labels: labels('http_requests_total', { code: '200', job: 'api', path: '/ä/€/😀' }), points: [[42, 1_700_000_000_000], [43.5, 1_700_000_010_000]] as [number, number][] },
      { labels: labels('m', { long }), points: [[Number.POSITIVE_INFINITY, 0], [-0, 2 ** 40 + 7], [Number.NaN, 4_102_444_800_000]] as [number, number][] },
      { labels: labels('neg'), points: [[1, -1_000]] as [number, number][] },
    ];
    const reference = encodeWriteRequest(
      series.map((s) => ({ labels: s.labels, samples: s.points.map(([value, timestampMs]) => ({ value, timestampMs })) })),
    );
    expect(writerBytes(series).toString('hex')).toBe(Buffer.from(reference).toString('hex'));
  });

  it('computes varint lengths across the 7-bit boundaries up to 2^53', () => {
    const cases: [number, number][] = [[0, 1], [127, 1], [128, 2], [16_383, 2], [16_384, 3], [2 ** 28 - 1, 4], [2 ** 28, 5], [2 ** 35, 6], [2 ** 53 - 1, 8], [-1, 10]];
    expect(cases.map(([v]) => varintLength(v))).toEqual(cases.map(([, n]) => n));
  });
});

describe('stale markers', () => {
  it('STALE_NAN has the exact Prometheus bit pattern and is recognised', () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, STALE_NAN);
    expect(view.getBigUint64(0)).toBe(STALE_NAN_BITS);
    expect(STALE_NAN_BITS).toBe(0x7ff0000000000002n);
    expect(isStaleMarker(STALE_NAN)).toBe(true);
    expect([Number.NaN, 0, 1, Number.POSITIVE_INFINITY].map(isStaleMarker)).toEqual([false, false, false, false]);
  });

  it('recognises the quieted form a plain JS number array leaves', () => {
    const array = [1.5, STALE_NAN]; // PACKED_DOUBLE_ELEMENTS sets the quiet bit
    expect(isStaleMarker(array[1]!)).toBe(true);
  });

  it('reaches the wire bit-exact, whatever form it arrived in (decoded from the request bytes)', () => {
    const quieted = [0.5, STALE_NAN][1]!;
    const { body } = buildRequestBody([sample('m', STALE_NAN, 1000), sample('m', quieted, 2000), sample('m', Number.NaN, 3000)]);
    const raw = uncompressSync(body, { asBuffer: true }) as Buffer;
    // Each Sample is 0x12 len 0x09 <8 bytes value> 0x10 <varint ts>: find the value bytes after each 0x09 tag.
    const values: string[] = [];
    for (let i = 0; i < raw.length - 9; i++) {
      if (raw[i] === 0x12 && raw[i + 2] === 0x09) values.push(raw.subarray(i + 3, i + 11).toString('hex'));
    }
    const stale = Buffer.alloc(8);
    stale.writeBigUInt64LE(0x7ff0000000000002n);
    expect(values.slice(0, 2)).toEqual([stale.toString('hex'), stale.toString('hex')]);
    expect(values[2]).not.toBe(stale.toString('hex')); // an ordinary NaN stays an ordinary NaN
  });

  it('survives persistence through encodeSampleValue/decodeSampleValue (JSON would lose it)', () => {
    const json = JSON.stringify([STALE_NAN, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2.5].map(encodeSampleValue));
    expect(json).toBe('["stale","NaN","+Inf","-Inf",2.5]');
    const back = (JSON.parse(json) as (number | string)[]).map(decodeSampleValue);
    expect(isStaleMarker(back[0]!)).toBe(true);
    expect(Number.isNaN(back[1]!) && !isStaleMarker(back[1]!)).toBe(true);
    expect(back.slice(2)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2.5]);
  });
});
