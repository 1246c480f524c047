/**
 * Remote-write 2.0 `Histogram` messages for native histograms with custom buckets (NHCB), the
 * form Prometheus 3.x stores a classic histogram in when it converts one itself (field numbers
 * from Prometheus v0.316.0's prompb/io/prometheus/write/v2/types.proto; what the receiver checks
 * is model/histogram's Validate for schema -53):
 *
 *   Histogram { uint64 count_int = 1 | double count_float = 2; double sum = 3; sint32 schema = 4;
 *               uint64 zero_count_int = 6; repeated BucketSpan positive_spans = 11;
 *               repeated sint64 positive_deltas = 12; repeated double positive_counts = 13;
 *               int64 timestamp = 15; repeated double custom_values = 16; int64 start_timestamp = 17; }
 *   BucketSpan { sint32 offset = 1; uint32 length = 2; }
 *
 * - `custom_values` are the finite upper bounds; bucket index `bounds.length` is the +Inf bucket.
 * - Buckets are per-bucket (not cumulative) counts. Spans cover the non-empty buckets; a gap of
 *   up to two empty buckets stays inside a span (a new span costs more bytes than two zero
 *   deltas), as Prometheus' own conversion compacts them (`Compact(2)`).
 * - Integer counts go as `count_int` and `positive_deltas` (each bucket's count minus the
 *   previous one's in the spans, zigzag-encoded); counts that are not whole numbers, or too large
 *   for an exact zigzag varint, go as a float histogram (`count_float`, `positive_counts`).
 * - A stale point is the histogram with nothing counted and Prometheus' stale NaN as sum.
 * - Zero bucket and negative buckets are unused with custom buckets (the receiver refuses them).
 */
import type { HistogramValue } from '../../core/metric-model.ts';
import { putDouble, putVarint, varintLength, withRoom } from './wire.ts';

/** Schema number of custom buckets. */
export const CUSTOM_BUCKETS_SCHEMA = -53;

/** Bucket counts up to here zigzag-encode to a safe integer (2·n ≤ 2^53). */
const MAX_INT_COUNT = 2 ** 52;

/** Empty buckets a span may carry between two non-empty ones (Prometheus' Compact(2)). */
const MAX_EMPTY_IN_SPAN = 2;

/** Rough request bytes of one histogram, for batch.max_bytes: bounds, deltas, the fixed fields. */
export function histogramBytes(h: HistogramValue): number {
  return 9 * h.bounds.length + 3 * h.bucketCounts.length + 48;
}

/** A histogram's buckets as spans plus one entry per bucket in them (count or delta). */
interface Buckets {
  readonly offsets: number[];
  readonly lengths: number[];
  /** Per bucket in the spans: the count, or its delta to the previous one (integer form). */
  readonly values: number[];
}

/**
 * Writes `TimeSeries.histograms` fields (tag, length, Histogram) into its own growing buffer, to
 * be copied into the request once the series' size is known. Scratch arrays are reused.
 */
export class HistogramFieldWriter {
  private buf: Buffer = Buffer.allocUnsafe(1024);
  private pos = 0;
  private readonly buckets: Buckets = { offsets: [], lengths: [], values: [] };

  reset(): void {
    this.pos = 0;
  }

  /** Bytes written since reset(). */
  get length(): number {
    return this.pos;
  }

  /** Copies what was written into `out` at `at`; returns the position after it. */
  copyTo(out: Buffer, at: number): number {
    return at + this.buf.copy(out, at, 0, this.pos);
  }

  /** Appends one histogram; `start` is NaN when it has no start timestamp. */
  add(h: HistogramValue, ts: number, start: number): void {
    const integer = isIntegral(h);
    const b = spansOf(h.bucketCounts, integer, this.buckets);
    const spanBytes = spansLength(b);
    const valueBytes = integer ? deltasLength(b.values) : 8 * b.values.length;
    const boundBytes = 8 * h.bounds.length;
    const size =
      (integer ? 1 + varintLength(h.count) : 9) +
      (Object.is(h.sum, 0) ? 0 : 9) +
      2 + // schema -53
      (integer ? 2 : 0) + // zero_count_int 0
      spanBytes +
      (valueBytes === 0 ? 0 : 1 + varintLength(valueBytes) + valueBytes) +
      (ts === 0 ? 0 : 1 + varintLength(ts)) +
      (boundBytes === 0 ? 0 : 2 + varintLength(boundBytes) + boundBytes) +
      (start !== start || start === 0 ? 0 : 2 + varintLength(start));
    this.ensure(1 + 10 + size);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = 0x1a; // TimeSeries.histograms, field 3
    pos = putVarint(buf, pos, size);
    if (integer) {
      buf[pos++] = 0x08; // count_int, field 1 (a oneof: written even when 0)
      pos = putVarint(buf, pos, h.count);
    } else {
      buf[pos++] = 0x11; // count_float, field 2
      pos = putDouble(buf, pos, h.count);
    }
    if (!Object.is(h.sum, 0)) {
      buf[pos++] = 0x19; // sum, field 3
      pos = putDouble(buf, pos, h.sum);
    }
    buf[pos++] = 0x20; // schema, field 4, sint32
    buf[pos++] = zigzag(CUSTOM_BUCKETS_SCHEMA);
    if (integer) {
      buf[pos++] = 0x30; // zero_count_int, field 6 (a oneof: written to mark the integer form)
      buf[pos++] = 0;
    }
    for (let s = 0; s < b.offsets.length; s++) {
      const offset = b.offsets[s]!;
      const length = b.lengths[s]!;
      buf[pos++] = 0x5a; // positive_spans, field 11
      buf[pos++] = spanLength(offset, length); // ≤ 12: one byte
      if (offset !== 0) {
        buf[pos++] = 0x08; // BucketSpan.offset, sint32 (never negative here)
        pos = putVarint(buf, pos, zigzag(offset));
      }
      buf[pos++] = 0x10; // BucketSpan.length
      pos = putVarint(buf, pos, length);
    }
    if (valueBytes > 0) {
      buf[pos++] = integer ? 0x62 : 0x6a; // positive_deltas (field 12, packed sint64) or positive_counts (13, packed double)
      pos = putVarint(buf, pos, valueBytes);
      for (const v of b.values) pos = integer ? putVarint(buf, pos, zigzag(v)) : putDouble(buf, pos, v);
    }
    if (ts !== 0) {
      buf[pos++] = 0x78; // timestamp, field 15
      pos = putVarint(buf, pos, ts);
    }
    if (boundBytes > 0) {
      buf[pos++] = 0x82; // custom_values, field 16, packed double: a two-byte tag
      buf[pos++] = 0x01;
      pos = putVarint(buf, pos, boundBytes);
      for (const bound of h.bounds) pos = putDouble(buf, pos, bound);
    }
    if (start === start && start !== 0) {
      buf[pos++] = 0x88; // start_timestamp, field 17: a two-byte tag
      buf[pos++] = 0x01;
      pos = putVarint(buf, pos, start);
    }
    this.pos = pos;
  }

  private ensure(extra: number): void {
    this.buf = withRoom(this.buf, this.pos, extra);
  }
}

/** Whether every count is a whole number the integer form carries exactly. */
function isIntegral(h: HistogramValue): boolean {
  if (!isCount(h.count)) return false;
  for (const c of h.bucketCounts) if (!isCount(c)) return false;
  return true;
}

function isCount(c: number): boolean {
  return Number.isInteger(c) && c >= 0 && c <= MAX_INT_COUNT;
}

/** Spans over the non-empty buckets (short gaps kept inside), into `out`'s reused arrays. */
function spansOf(counts: readonly number[], deltas: boolean, out: Buckets): Buckets {
  out.offsets.length = 0;
  out.lengths.length = 0;
  out.values.length = 0;
  let end = 0; // bucket index after the last span
  let previous = 0;
  const push = (count: number): void => {
    out.values.push(deltas ? count - previous : count);
    previous = count;
  };
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (count === 0) continue;
    const gap = i - end;
    const last = out.lengths.length - 1;
    if (last >= 0 && gap <= MAX_EMPTY_IN_SPAN) {
      for (let k = 0; k < gap; k++) push(0);
      out.lengths[last]! += gap + 1;
    } else {
      out.offsets.push(gap);
      out.lengths.push(1);
    }
    push(count);
    end = i + 1;
  }
  return out;
}

function spanLength(offset: number, length: number): number {
  return (offset === 0 ? 0 : 1 + varintLength(zigzag(offset))) + 1 + varintLength(length);
}

function spansLength(b: Buckets): number {
  let n = 0;
  for (let s = 0; s < b.offsets.length; s++) n += 2 + spanLength(b.offsets[s]!, b.lengths[s]!);
  return n;
}

function deltasLength(deltas: readonly number[]): number {
  let n = 0;
  for (const d of deltas) n += varintLength(zigzag(d));
  return n;
}

/** Protobuf's zigzag encoding of a signed integer (sint32 / sint64), for safe integers. */
function zigzag(n: number): number {
  return n >= 0 ? 2 * n : -2 * n - 1;
}
