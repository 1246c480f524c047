/**
 * Prometheus' staleness marker: a NaN with one exact bit pattern
 * (`value.StaleNaN` in prometheus/model/value), sent as a series' last sample
 * so queries stop returning it at once instead of after the 5-minute lookback.
 *
 * A marker is an ordinary JS number, but two things about it are fragile:
 * - 0x7ff0000000000002 is a *signalling* NaN. V8 keeps its bits in object
 *   properties, Maps and Float64Arrays, but storing it into a plain number
 *   array (PACKED_DOUBLE_ELEMENTS) sets the quiet bit, giving
 *   0x7ff8000000000002. isStaleMarker() accepts that form too, and the
 *   remote-write encoder always writes the exact upstream bits.
 * - structuredClone, JSON and most serialisers turn every NaN into the
 *   canonical NaN, which is NOT a marker. Anything that persists samples (the
 *   outbox) must store "is a stale marker" explicitly, e.g. with
 *   encodeSampleValue()/decodeSampleValue() below.
 */

/** The bit pattern Prometheus recognises (value.StaleNaN). */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

/** The same pattern with the IEEE 754 quiet bit set, as V8 may leave it. */
const QUIETED_STALE_NAN_BITS = 0x7ff8000000000002n;

const scratch = new DataView(new ArrayBuffer(8));

function bitsOf(value: number): bigint {
  scratch.setFloat64(0, value);
  return scratch.getBigUint64(0);
}

function fromBits(bits: bigint): number {
  scratch.setBigUint64(0, bits);
  return scratch.getFloat64(0);
}

/** The staleness marker as a JS number. Emit it as a sample's value; never compute with it. */
export const STALE_NAN: number = fromBits(STALE_NAN_BITS);

/** True for a staleness marker (exact bits, or the quieted form V8 may produce). */
export function isStaleMarker(value: number): boolean {
  // Fast exit: every non-NaN number, i.e. nearly every sample.
  if (value === value) return false;
  const bits = bitsOf(value);
  return bits === STALE_NAN_BITS || bits === QUIETED_STALE_NAN_BITS;
}

/** The 8 little-endian bytes remote write carries for a stale marker. */
export const STALE_NAN_LE_BYTES: Readonly<Uint8Array> = (() => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, STALE_NAN_BITS, true);
  return bytes;
})();

/**
 * A JSON-safe form of a sample value for persistence: finite numbers as
 * themselves, the specials as strings ("NaN", "+Inf", "-Inf", "stale").
 */
export function encodeSampleValue(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return isStaleMarker(value) ? 'stale' : 'NaN';
}

/** Inverse of encodeSampleValue. */
export function decodeSampleValue(encoded: number | string): number {
  if (typeof encoded === 'number') return encoded;
  switch (encoded) {
    case '+Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'stale':
      return STALE_NAN;
    default:
      return Number.NaN;
  }
}
