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
  addSketchBytes(fresh, wire);
  const target = storesOf(fresh);
  // The stores grew by pushes, which leave spare capacity.
  target.store.bins = target.store.bins.slice();
  target.negativeStore.bins = target.negativeStore.bins.slice();
  return fresh;
}

/**
 * `into` += the sketch of `encodeSketch`'s bytes (of the same mapping): its counts are added key
 * by key, as DDSketch's merge does, so the quantiles are those of the two merged.
 */
export function addSketchBytes(into: DDSketch, wire: Uint8Array): void {
  const view = formatView(wire);
  const target = storesOf(into);
  target.zeroCount += view.getFloat64(1, true);
  let at = readBins(view, 9, target.store);
  at = readBins(view, at, target.negativeStore);
  if (at !== wire.length) throw new RangeError('trailing bytes after a sketch');
  target.count = target.zeroCount + target.store.count + target.negativeStore.count;
}

/** Throws unless `wire` is a whole sketch in `encodeSketch`'s form (not the protobuf one). */
export function checkSketchBytes(wire: Uint8Array): void {
  const view = formatView(wire);
  const at = readBins(view, readBins(view, 9, NO_BINS), NO_BINS);
  if (at !== wire.length) throw new RangeError('trailing bytes after a sketch');
}

/** Is this `encodeSketch`'s form (true) or the protobuf of earlier versions (false)? */
export function isSketchBytes(wire: Uint8Array): boolean {
  return wire[0] !== PROTOBUF_FIRST_BYTE;
}

/**
 * The bytes of the sketch `a` and `b` merged, both and the result in `encodeSketch`'s form, with
 * no DDSketch in between: counts added key by key (each store as the smaller of dense and
 * sparse, as `encodeSketch` chooses), so decoding the result equals merging the decoded two.
 */
export function mergeSketchBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const va = formatView(a);
  const vb = formatView(b);
  const positive = [new Bins(), new Bins()] as const;
  const negative = [new Bins(), new Bins()] as const;
  readBins(va, readBins(va, 9, positive[0]), negative[0]);
  readBins(vb, readBins(vb, 9, positive[1]), negative[1]);
  const stores = [mergeBins(positive[0], positive[1]), mergeBins(negative[0], negative[1])];
  const plans = stores.map(planBins);
  const bytes = new Uint8Array(9 + plans[0]!.bytes + plans[1]!.bytes);
  const view = new DataView(bytes.buffer);
  bytes[0] = FORMAT;
  view.setFloat64(1, va.getFloat64(1, true) + vb.getFloat64(1, true), true);
  let at = 9;
  for (let s = 0; s < 2; s++) at = writeBins(view, at, stores[s]!, plans[s]!);
  return bytes;
}

function formatView(wire: Uint8Array): DataView {
  if (wire[0] !== FORMAT || wire.length < 11) throw new RangeError('not a sketch of a known format');
  return new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
}

/** A store's non-zero bins, in key order once `sorted()` (encodeSketch writes them in order; other bytes may not). */
class Bins {
  keys: number[] = [];
  counts: number[] = [];
  private inOrder = true;
  add(key: number, count: number): void {
    if (count === 0) return;
    const n = this.keys.length;
    if (n > 0 && key <= this.keys[n - 1]!) this.inOrder = false;
    this.keys.push(key);
    this.counts.push(count);
  }
  /** These bins in key order, counts of a repeated key added (as the store's `add` does). */
  sorted(): Bins {
    if (this.inOrder) return this;
    const order = this.keys.map((_, i) => i).sort((i, j) => this.keys[i]! - this.keys[j]!);
    const out = new Bins();
    for (const i of order) {
      const n = out.keys.length;
      if (n > 0 && out.keys[n - 1] === this.keys[i]) out.counts[n - 1] = out.counts[n - 1]! + this.counts[i]!;
      else out.add(this.keys[i]!, this.counts[i]!);
    }
    return out;
  }
}

/** Bins read only to check their bytes. */
const NO_BINS = { add: () => {} };

function mergeBins(unsortedA: Bins, unsortedB: Bins): Bins {
  const a = unsortedA.sorted();
  const b = unsortedB.sorted();
  const out = new Bins();
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const ka = i < a.keys.length ? a.keys[i]! : Number.POSITIVE_INFINITY;
    const kb = j < b.keys.length ? b.keys[j]! : Number.POSITIVE_INFINITY;
    if (ka < kb) out.add(ka, a.counts[i++]!);
    else if (kb < ka) out.add(kb, b.counts[j++]!);
    else out.add(ka, a.counts[i++]! + b.counts[j++]!);
  }
  return out;
}

/** `planStore`'s choice for bins already in key order. */
function planBins(bins: Bins): StorePlan {
  const n = bins.keys.length;
  if (n === 0) return { kind: EMPTY, first: -1, last: -1, nonZero: 0, bytes: 1 };
  const first = bins.keys[0]!;
  const last = bins.keys[n - 1]!;
  const dense = 9 + 8 * (last - first + 1);
  const sparse = 5 + 12 * n;
  return dense <= sparse ? { kind: DENSE, first, last, nonZero: n, bytes: dense } : { kind: SPARSE, first, last, nonZero: n, bytes: sparse };
}

function writeBins(view: DataView, at: number, bins: Bins, plan: StorePlan): number {
  view.setUint8(at++, plan.kind);
  const { keys, counts } = bins;
  if (plan.kind === DENSE) {
    view.setInt32(at, plan.first, true);
    view.setUint32(at + 4, plan.last - plan.first + 1, true);
    at += 8;
    for (let i = 0; i < keys.length; i++) view.setFloat64(at + 8 * (keys[i]! - plan.first), counts[i]!, true);
    return at + 8 * (plan.last - plan.first + 1);
  }
  if (plan.kind === SPARSE) {
    view.setUint32(at, plan.nonZero, true);
    at += 4;
    for (let i = 0; i < keys.length; i++, at += 12) {
      view.setInt32(at, keys[i]!, true);
      view.setFloat64(at + 4, counts[i]!, true);
    }
  }
  return at;
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

/** Calls `bins.add(key, count)` for each bin of the store at `at`, in key order; returns where the store ends. */
function readBins(view: DataView, at: number, store: { add(key: number, count: number): void }): number {
  if (at >= view.byteLength) throw new RangeError('sketch store runs past its bytes');
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
