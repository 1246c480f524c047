import { DDSketch } from '@datadog/sketches-js';

/**
 * A DDSketch's wire form in partials and checkpoints, written by hand because the library's
 * `toProto` writes every allocated bin, chunk padding included (2.8 KB for 50 latencies spread over
 * three decades at 1 %, where 50 (key, count) pairs are 600 B), and resolves its protobuf module
 * on every call. Each store goes as the smaller of a dense run (first key, then one count per key
 * from its lowest to its highest non-zero bin) and sparse (key, count) pairs.
 *
 * Layout, little endian: tag (1 byte, FORMAT), zero count (f64), then the positive and the
 * negative store, each: kind (1 byte: EMPTY; DENSE, first key i32, n u32, n counts f64; SPARSE,
 * n u32, n × (key i32, count f64)).
 *
 * Only the stores' counts travel, as with protobuf: min, max and sum are not kept (quantiles do
 * not read them), and decoding adds the counts into a fresh sketch of the aggregator's own mapping,
 * so a sketch read back answers every quantile bit for bit as the one written.
 */
const FORMAT = 0x02;
/** The first byte of the library's protobuf form (field 1, the mapping, length-delimited): read as before. */
const PROTOBUF_FIRST_BYTE = 0x0a;
const EMPTY = 0;
const DENSE = 1;
const SPARSE = 2;

/** The store fields the wire reads and writes (DenseStore's own, public in its JavaScript). */
interface StoreView {
  bins: number[];
  offset: number;
  count: number;
  add(key: number, weight?: number): void;
}

const storesOf = (sketch: DDSketch) => sketch as unknown as { store: StoreView; negativeStore: StoreView; zeroCount: number; count: number };

export function encodeSketch(sketch: DDSketch): Uint8Array {
  const { store, negativeStore, zeroCount } = storesOf(sketch);
  const plans = [planStore(store), planStore(negativeStore)];
  const bytes = new Uint8Array(9 + plans[0]!.bytes + plans[1]!.bytes);
  const view = new DataView(bytes.buffer);
  bytes[0] = FORMAT;
  view.setFloat64(1, zeroCount, true);
  let at = 9;
  at = writeStore(view, at, store, plans[0]!);
  writeStore(view, at, negativeStore, plans[1]!);
  return bytes;
}

/** Rebuilds a sketch from `encodeSketch`'s bytes (or the protobuf form of earlier versions) into `fresh`. */
export function decodeSketch(wire: Uint8Array, fresh: DDSketch): DDSketch {
  if (wire[0] === PROTOBUF_FIRST_BYTE) {
    fresh.merge(DDSketch.fromProto(wire));
    return fresh;
  }
  if (wire[0] !== FORMAT || wire.length < 11) throw new RangeError('not a sketch of a known format');
  const view = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
  const target = storesOf(fresh);
  target.zeroCount = view.getFloat64(1, true);
  let at = readStore(view, 9, target.store);
  at = readStore(view, at, target.negativeStore);
  if (at !== wire.length) throw new RangeError('trailing bytes after a sketch');
  // The stores grew by pushes, which leave spare capacity; an open window holds this sketch.
  target.store.bins = target.store.bins.slice();
  target.negativeStore.bins = target.negativeStore.bins.slice();
  target.count = target.zeroCount + target.store.count + target.negativeStore.count;
  return fresh;
}

interface StorePlan {
  readonly kind: number;
  readonly first: number;
  readonly last: number;
  readonly nonZero: number;
  readonly bytes: number;
}

function planStore(store: StoreView): StorePlan {
  const { bins } = store;
  let first = -1;
  let last = -1;
  let nonZero = 0;
  for (let i = 0; i < bins.length; i++) {
    if (bins[i] !== 0) {
      if (first < 0) first = i;
      last = i;
      nonZero++;
    }
  }
  if (nonZero === 0) return { kind: EMPTY, first, last, nonZero, bytes: 1 };
  const dense = 9 + 8 * (last - first + 1);
  const sparse = 5 + 12 * nonZero;
  return dense <= sparse ? { kind: DENSE, first, last, nonZero, bytes: dense } : { kind: SPARSE, first, last, nonZero, bytes: sparse };
}

function writeStore(view: DataView, at: number, store: StoreView, plan: StorePlan): number {
  view.setUint8(at++, plan.kind);
  const { bins, offset } = store;
  if (plan.kind === DENSE) {
    view.setInt32(at, plan.first + offset, true);
    view.setUint32(at + 4, plan.last - plan.first + 1, true);
    at += 8;
    for (let i = plan.first; i <= plan.last; i++, at += 8) view.setFloat64(at, bins[i]!, true);
  } else if (plan.kind === SPARSE) {
    view.setUint32(at, plan.nonZero, true);
    at += 4;
    for (let i = plan.first; i <= plan.last; i++) {
      if (bins[i] === 0) continue;
      view.setInt32(at, i + offset, true);
      view.setFloat64(at + 4, bins[i]!, true);
      at += 12;
    }
  }
  return at;
}

function readStore(view: DataView, at: number, store: StoreView): number {
  const kind = view.getUint8(at++);
  if (kind === EMPTY) return at;
  if (kind === DENSE) {
    const first = view.getInt32(at, true);
    const n = view.getUint32(at + 4, true);
    at += 8;
    if (at + 8 * n > view.byteLength) throw new RangeError('sketch store runs past its bytes');
    for (let i = 0; i < n; i++, at += 8) {
      const count = view.getFloat64(at, true);
      if (count !== 0) store.add(first + i, count);
    }
    return at;
  }
  if (kind !== SPARSE) throw new RangeError(`unknown sketch store kind ${kind}`);
  const n = view.getUint32(at, true);
  at += 4;
  if (at + 12 * n > view.byteLength) throw new RangeError('sketch store runs past its bytes');
  for (let i = 0; i < n; i++, at += 12) store.add(view.getInt32(at, true), view.getFloat64(at + 4, true));
  return at;
}
