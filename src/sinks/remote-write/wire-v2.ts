/**
 * A hand-written encoder for the remote-write 2.0 io.prometheus.write.v2.Request (field numbers
 * from Prometheus v0.316.0's prompb/io/prometheus/write/v2/types.proto; proto-v2.ts decodes it
 * with protobufjs for tests, and test/unit/remote-write/wire-v2.test.ts checks the two agree).
 *
 * What 2.0 saves over 1.0: every label name and value is written once per request in
 * `symbols` and referenced by index (a label set is a list of small varints); metadata (type,
 * help, unit) rides along with each series; a cumulative point carries its start timestamp, so
 * the receiver knows where a counter started instead of guessing resets.
 *
 *   Request    { repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
 *   TimeSeries { repeated uint32 labels_refs = 1 (packed); repeated Sample samples = 2;
 *                repeated Histogram histograms = 3 (native-histogram.ts); Metadata metadata = 5; }
 *   Sample     { double value = 1; int64 timestamp = 2; int64 start_timestamp = 3; }
 *   Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
 */
import type { HistogramValue, MetricDescriptor, MetricType } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { HistogramFieldWriter } from './native-histogram.ts';
import { putDouble, putVarint, varintLength, VarintMemo, withRoom } from './wire.ts';

/** Metadata.MetricType numbers. */
const METRIC_TYPE: Readonly<Record<MetricType, number>> = { counter: 1, gauge: 2, histogram: 3, summary: 5 };

/** Types whose points carry a start timestamp (cumulative since it). A summary's values are per window. */
function hasStart(metric: MetricDescriptor | undefined): boolean {
  return metric !== undefined && (metric.type === 'counter' || metric.type === 'histogram');
}

export class RequestV2Writer {
  private buf: Buffer;
  private pos = 0;
  /** Symbol -> index; "" is always 0, as the spec requires. */
  private readonly symbols = new Map<string, number>([['', 0]]);
  private readonly symbolList: string[] = [''];
  private symbolBytes = 2; // the empty symbol: tag and zero length
  private readonly refs: number[] = [];
  private readonly histogramFields = new HistogramFieldWriter();
  /** A request's samples share a few timestamps and start timestamps: each varint made once (wire.ts). */
  private readonly timestamp = new VarintMemo();
  private readonly start = new VarintMemo();

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  reset(): void {
    this.pos = 0;
    this.symbols.clear();
    this.symbols.set('', 0);
    this.symbolList.length = 1;
    this.symbolBytes = 2;
  }

  /**
   * Appends one TimeSeries: sorted labels and the points at indices[from, to), in that order. A point
   * with an entry in `histograms` goes as a native histogram, the others as float samples (a
   * sender puts one kind in a series).
   */
  addSeries(
    labels: readonly Label[],
    metric: MetricDescriptor | undefined,
    values: ArrayLike<number>,
    timestamps: ArrayLike<number>,
    starts: ArrayLike<number>,
    indices: ArrayLike<number>,
    from: number,
    to: number,
    histograms?: ArrayLike<HistogramValue | undefined>,
  ): void {
    const refs = this.refs;
    refs.length = 0;
    let refBytes = 0;
    for (const { name, value } of labels) {
      const n = this.intern(name);
      const v = this.intern(value);
      refs.push(n, v);
      refBytes += varintLength(n) + varintLength(v);
    }
    const withStart = hasStart(metric);
    const histogramFields = this.histogramFields;
    histogramFields.reset();
    let size = 1 + varintLength(refBytes) + refBytes;
    for (let k = from; k < to; k++) {
      const i = indices[k]!;
      const start = withStart ? starts[i]! : Number.NaN;
      const histogram = histograms?.[i];
      if (histogram === undefined) size += 2 + this.sampleLength(values[i]!, timestamps[i]!, start);
      else histogramFields.add(histogram, timestamps[i]!, start);
    }
    size += histogramFields.length;
    let metaBytes = 0;
    let type = 0;
    let helpRef = 0;
    let unitRef = 0;
    if (metric !== undefined) {
      type = METRIC_TYPE[metric.type];
      helpRef = this.intern(metric.help);
      unitRef = this.intern(metric.unit);
      metaBytes = 2 + (helpRef === 0 ? 0 : 1 + varintLength(helpRef)) + (unitRef === 0 ? 0 : 1 + varintLength(unitRef));
      size += 2 + metaBytes;
    }
    this.ensure(1 + 10 + size);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = 0x2a; // Request.timeseries, field 5
    pos = putVarint(buf, pos, size);
    buf[pos++] = 0x0a; // TimeSeries.labels_refs, field 1, packed
    pos = putVarint(buf, pos, refBytes);
    for (const ref of refs) pos = putVarint(buf, pos, ref);
    for (let k = from; k < to; k++) {
      const i = indices[k]!;
      if (histograms?.[i] !== undefined) continue;
      const value = values[i]!;
      const ts = timestamps[i]!;
      const start = withStart ? starts[i]! : Number.NaN;
      buf[pos++] = 0x12; // TimeSeries.samples, field 2
      buf[pos++] = this.sampleLength(value, ts, start); // < 128: one byte
      // proto3 leaves fields at their default out, as Prometheus does.
      if (!Object.is(value, 0)) {
        buf[pos++] = 0x09; // Sample.value, field 1, fixed64
        pos = putDouble(buf, pos, value);
      }
      if (ts !== 0) {
        buf[pos++] = 0x10; // Sample.timestamp, field 2, varint
        pos = this.timestamp.put(buf, pos, ts);
      }
      if (start === start && start !== 0) {
        buf[pos++] = 0x18; // Sample.start_timestamp, field 3, varint
        pos = this.start.put(buf, pos, start);
      }
    }
    pos = histogramFields.copyTo(buf, pos);
    if (metric !== undefined) {
      buf[pos++] = 0x2a; // TimeSeries.metadata, field 5
      buf[pos++] = metaBytes; // < 128: one byte
      buf[pos++] = 0x08; // Metadata.type, field 1
      buf[pos++] = type;
      if (helpRef !== 0) {
        buf[pos++] = 0x18; // Metadata.help_ref, field 3
        pos = putVarint(buf, pos, helpRef);
      }
      if (unitRef !== 0) {
        buf[pos++] = 0x20; // Metadata.unit_ref, field 4
        pos = putVarint(buf, pos, unitRef);
      }
    }
    this.pos = pos;
  }

  /** The whole request: the symbols table, then the series (a fresh buffer). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.symbolBytes + this.pos);
    let pos = 0;
    for (const symbol of this.symbolList) {
      out[pos++] = 0x22; // Request.symbols, field 4
      const length = Buffer.byteLength(symbol, 'utf8');
      pos = putVarint(out, pos, length);
      pos += out.write(symbol, pos, 'utf8');
    }
    this.buf.copy(out, pos, 0, this.pos);
    return out;
  }

  private intern(symbol: string): number {
    let ref = this.symbols.get(symbol);
    if (ref === undefined) {
      ref = this.symbolList.length;
      this.symbols.set(symbol, ref);
      this.symbolList.push(symbol);
      const length = Buffer.byteLength(symbol, 'utf8');
      this.symbolBytes += 1 + varintLength(length) + length;
    }
    return ref;
  }

  /** Bytes of a v2 Sample message (without its tag and length); `start` NaN when not sent. */
  private sampleLength(value: number, ts: number, start: number): number {
    return (
      (Object.is(value, 0) ? 0 : 9) +
      (ts === 0 ? 0 : 1 + this.timestamp.lengthOf(ts)) +
      (start !== start || start === 0 ? 0 : 1 + this.start.lengthOf(start))
    );
  }

  private ensure(extra: number): void {
    this.buf = withRoom(this.buf, this.pos, extra);
  }
}
