/**
 * A numerical drift window on the wire (partials and checkpoints), version 2: little-endian
 * float64s, one copy in and one out. Version 1 (plain data: [value, count] pairs, the sketch as
 * base64 protobuf) cost more to pack and unpack than the drift metric's scoring: pairs are one
 * msgpack array each, and the sketch library resolves its protobuf module on every call. Readers
 * tell the versions apart by type (bytes here, an object in v1) and by the leading version number.
 *
 *   exact:  [2, 0, n, values[n], counts[n]]
 *   sketch: [2, 1, count, min, max, integral, zeroCount, posOffset, posLength, negOffset, negLength, posBins, negBins]
 */
import { zeroedDoubles } from '../aggregations/double-slab.ts';
import { EXACT_FORM as EXACT, EXACT_HEADER, WIRE_VERSION as VERSION, type SortedCounts } from './sorted-counts.ts';

const SKETCH = 1;
const SKETCH_HEADER = 11;
const HOST_LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

export interface SketchBins {
  readonly offset: number;
  readonly bins: ArrayLike<number>;
}

export interface SketchFields {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly integral: boolean;
  readonly zeroCount: number;
  readonly positive: SketchBins;
  readonly negative: SketchBins;
}

/** An exact window, with room for its running sums (`sums`, zeros: the reader fills them as it checks the counts). */
export type DecodedWindow = { readonly form: 'exact'; readonly sorted: SortedCounts; readonly sums: Float64Array } | ({ readonly form: 'sketch' } & SketchFields);

/**
 * Read-only bytes: a sorted form built in the wire's layout (a settled window, a decoded one) is
 * handed out as it is, not copied (big-endian hosts copy to swap).
 */
export function encodeExactWindow(sorted: SortedCounts): Uint8Array {
  const laidOut = sorted.wire;
  if (laidOut !== undefined && HOST_LITTLE_ENDIAN) return new Uint8Array(laidOut.buffer, laidOut.byteOffset, laidOut.byteLength);
  const n = sorted.values.length;
  const all = new Float64Array(EXACT_HEADER + 2 * n);
  all[0] = VERSION;
  all[1] = EXACT;
  all[2] = n;
  all.set(sorted.values, EXACT_HEADER);
  all.set(sorted.counts, EXACT_HEADER + n);
  return toBytes(all);
}

export function encodeSketchWindow(s: SketchFields): Uint8Array {
  const p = s.positive.bins.length;
  const q = s.negative.bins.length;
  const all = new Float64Array(SKETCH_HEADER + p + q);
  all.set([VERSION, SKETCH, s.count, s.min, s.max, s.integral ? 1 : 0, s.zeroCount, s.positive.offset, p, s.negative.offset, q]);
  all.set(s.positive.bins, SKETCH_HEADER);
  all.set(s.negative.bins, SKETCH_HEADER + p);
  return toBytes(all);
}

/** Throws a TypeError on bytes that are not a version-2 window (a checkpoint is ours; a torn one must not load as data). */
export function decodeWindowBytes(bytes: Uint8Array): DecodedWindow {
  const all = fromBytes(bytes);
  if (all.length < 3 || all[0] !== VERSION) throw new TypeError('not a version-2 drift window');
  if (all[1] === EXACT) {
    const n = all[2]!;
    if (!Number.isInteger(n) || all.length !== EXACT_HEADER + 2 * n) throw new TypeError('a drift window of the wrong length');
    const sorted = { values: all.subarray(EXACT_HEADER, EXACT_HEADER + n), counts: all.subarray(EXACT_HEADER + n), wire: all };
    return { form: 'exact', sorted, sums: zeroedDoubles(n) };
  }
  if (all[1] !== SKETCH || all.length < SKETCH_HEADER) throw new TypeError('not a version-2 drift window');
  const [, , count, min, max, integral, zeroCount, posOffset, p, negOffset, q] = all;
  if (all.length !== SKETCH_HEADER + p! + q!) throw new TypeError('a drift window of the wrong length');
  return {
    form: 'sketch', count: count!, min: min!, max: max!, integral: integral === 1, zeroCount: zeroCount!,
    positive: { offset: posOffset!, bins: all.subarray(SKETCH_HEADER, SKETCH_HEADER + p!) },
    negative: { offset: negOffset!, bins: all.subarray(SKETCH_HEADER + p!) },
  };
}

function toBytes(all: Float64Array): Uint8Array {
  const bytes = new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
  if (!HOST_LITTLE_ENDIAN) swapEights(bytes);
  return bytes;
}

/**
 * An aligned copy (a decoded Uint8Array may sit at any offset of a larger buffer), on a shared slab
 * when small: a window of ~90 values took its own off-heap buffer (~1.5 µs) at every partial stage 2
 * decoded, as its running sums did when they were not in the same one.
 */
function fromBytes(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % 8 !== 0) throw new TypeError('a drift window of the wrong length');
  const all = zeroedDoubles(bytes.byteLength / 8);
  const copy = new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
  copy.set(bytes);
  if (!HOST_LITTLE_ENDIAN) swapEights(copy);
  return all;
}

function swapEights(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
}
