/**
 * A double's eight little-endian bytes, written straight into a buffer. Both binary wires
 * (the partials between the stages, remote write's protobuf) write doubles per sample, and
 * Buffer#writeDoubleLE's argument and bounds checks showed in their profiles; the callers size
 * their buffer before writing. Byte copies through a Float64Array keep NaN payloads as
 * writeDoubleLE does.
 */
const DOUBLE = new Float64Array(1);
const DOUBLE_BYTES = new Uint8Array(DOUBLE.buffer);
/** Byte copies through a Float64Array are little-endian only on a little-endian host. */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes `value` as 8 little-endian bytes at `pos`; returns the position after them. */
export function writeDoubleLE(buf: Buffer, pos: number, value: number): number {
  if (!HOST_LE) return buf.writeDoubleLE(value, pos);
  DOUBLE[0] = value;
  const bytes = DOUBLE_BYTES;
  buf[pos] = bytes[0]!;
  buf[pos + 1] = bytes[1]!;
  buf[pos + 2] = bytes[2]!;
  buf[pos + 3] = bytes[3]!;
  buf[pos + 4] = bytes[4]!;
  buf[pos + 5] = bytes[5]!;
  buf[pos + 6] = bytes[6]!;
  buf[pos + 7] = bytes[7]!;
  return pos + 8;
}
