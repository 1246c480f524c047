/**
 * Zeroed Float64Array accumulators carved out of shared 4 KiB buffers. V8 keeps a typed array of
 * at most 64 bytes on its own heap; a larger one (a histogram's buckets: 14 bounds → 17 doubles)
 * gets its own off-heap backing store, which cost 1.1–2.4 µs per `new Float64Array(17)` against
 * 0.1 µs for a view on a shared buffer (measured on the 2-core bench machine, node 20), and the
 * stage-1 combiner creates one per series and pane at every flush.
 *
 * A view keeps its whole buffer alive: at most 4 KiB per surviving accumulator, in the worst case
 * where every other accumulator of its buffer is gone. Readers of the bytes must use
 * `byteOffset`/`byteLength` (every one in Sluice does), never the bare `.buffer`.
 */
const SLAB_BYTES = 4096;
const SLAB_DOUBLES = SLAB_BYTES / Float64Array.BYTES_PER_ELEMENT;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0; // doubles handed out of `slab`

/** A zeroed Float64Array of `length` doubles; past half a slab, an array of its own. */
export function zeroedDoubles(length: number): Float64Array {
  if (length > SLAB_DOUBLES / 2) return new Float64Array(length);
  if (used + length > SLAB_DOUBLES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const view = new Float64Array(slab, used * Float64Array.BYTES_PER_ELEMENT, length);
  used += length;
  return view;
}
