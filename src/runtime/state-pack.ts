/**
 * A msgpack writer for the values stage 2's checkpoint entries are made of (arrays, numbers,
 * ASCII strings, null, booleans, byte arrays), giving byte for byte what msgpackr's `pack` gives
 * with `useRecords: false` (test/unit/state-pack.test.ts compares them), so checkpoints read and
 * digest as before. Anything else (objects, undefined, non-ASCII strings, other typed arrays)
 * returns undefined and the caller packs the value with msgpackr.
 *
 * Why: msgpackr packs a Uint8Array through its extension lookup (a closure, a try/finally and an
 * object per array): a series entry of scores-bench's shape with an anomaly state took 1.25 µs to
 * pack, 0.66 µs without one. This writer: 0.82 and 0.58 µs (medians of 7 rounds of 200k packs
 * each, alternating, one process, on a loaded 2-core machine).
 */

/** Bytes per chunk; packs are views of it, like msgpackr's (a view keeps its chunk alive). */
const CHUNK_BYTES = 64 * 1024;
/** A pack does not start this close to the chunk's end (a fresh chunk then), as msgpackr's 2 KiB. */
const CHUNK_SLACK = 2048;
/** Array and string lengths of one pack beyond which it is left to msgpackr (one chunk holds it). */
const MAX_ITEMS = 0xffff;

let chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
let view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
let at = 0;

/** Thrown inside `write` when the value holds something this writer leaves to msgpackr. */
const UNSUPPORTED = new Error('not packed here');
/** Thrown inside `write` when the rest of the chunk is too small (then a fresh one is tried). */
const NO_ROOM = new Error('no room left in the chunk');

/** The value's msgpack bytes, or undefined if it holds anything besides the types above. */
export function packPlain(value: unknown): Buffer | undefined {
  if (CHUNK_BYTES - at < CHUNK_SLACK) newChunk();
  const packed = tryPack(value);
  if (packed !== null) return packed;
  // (A fresh chunk too small: a value of more than 64 KiB, left to msgpackr.)
  if (at === 0) return undefined;
  newChunk();
  return tryPack(value) ?? undefined;
}

/** The value's bytes, undefined (unsupported) or null (no room left in this chunk). */
function tryPack(value: unknown): Buffer | undefined | null {
  const start = at;
  try {
    write(value);
  } catch (error) {
    at = start;
    if (error === UNSUPPORTED) return undefined;
    if (error === NO_ROOM) return null;
    throw error;
  }
  return chunk.subarray(start, at);
}

function newChunk(): void {
  chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  at = 0;
}

/** Room for `bytes` more at `at`. */
function room(bytes: number): void {
  if (at + bytes > CHUNK_BYTES) throw NO_ROOM;
}

function write(value: unknown): void {
  switch (typeof value) {
    case 'number':
      writeNumber(value);
      return;
    case 'string':
      writeString(value);
      return;
    case 'boolean':
      room(1);
      chunk[at++] = value ? 0xc3 : 0xc2;
      return;
    case 'object':
      if (value === null) {
        room(1);
        chunk[at++] = 0xc0;
      } else if (Array.isArray(value) && value.constructor === Array) {
        writeArray(value);
      } else if (value instanceof Uint8Array && (value.constructor === Uint8Array || value.constructor === Buffer)) {
        writeBytes(value);
      } else {
        throw UNSUPPORTED;
      }
      return;
    default:
      throw UNSUPPORTED;
  }
}

function writeArray(items: readonly unknown[]): void {
  const length = items.length;
  if (length > MAX_ITEMS) throw UNSUPPORTED;
  room(3);
  if (length < 0x10) {
    chunk[at++] = 0x90 | length;
  } else {
    chunk[at++] = 0xdc;
    chunk[at++] = length >> 8;
    chunk[at++] = length & 0xff;
  }
  for (let i = 0; i < length; i++) write(items[i]);
}

/** As msgpackr: unsigned and signed integers of 32 bits in their smallest form, anything else a float64. */
function writeNumber(value: number): void {
  room(9);
  if (value >>> 0 === value) {
    if (value < 0x80) {
      chunk[at++] = value;
    } else if (value < 0x100) {
      chunk[at++] = 0xcc;
      chunk[at++] = value;
    } else if (value < 0x10000) {
      chunk[at++] = 0xcd;
      chunk[at++] = value >> 8;
      chunk[at++] = value & 0xff;
    } else {
      chunk[at++] = 0xce;
      view.setUint32(at, value);
      at += 4;
    }
  } else if (value >> 0 === value) {
    if (value >= -0x20) {
      chunk[at++] = 0x100 + value;
    } else if (value >= -0x80) {
      chunk[at++] = 0xd0;
      chunk[at++] = value + 0x100;
    } else if (value >= -0x8000) {
      chunk[at++] = 0xd1;
      view.setInt16(at, value);
      at += 2;
    } else {
      chunk[at++] = 0xd2;
      view.setInt32(at, value);
      at += 4;
    }
  } else {
    chunk[at++] = 0xcb;
    view.setFloat64(at, value);
    at += 8;
  }
}

/** ASCII only: its UTF-8 is its char codes (msgpackr's encoding of other strings is its own affair). */
function writeString(value: string): void {
  const length = value.length;
  if (length > MAX_ITEMS) throw UNSUPPORTED;
  room(3 + length);
  if (length < 0x20) chunk[at++] = 0xa0 | length;
  else if (length < 0x100) {
    chunk[at++] = 0xd9;
    chunk[at++] = length;
  } else {
    chunk[at++] = 0xda;
    chunk[at++] = length >> 8;
    chunk[at++] = length & 0xff;
  }
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80) throw UNSUPPORTED;
    chunk[at++] = code;
  }
}

function writeBytes(bytes: Uint8Array): void {
  const length = bytes.byteLength;
  room(5 + length);
  if (length < 0x100) {
    chunk[at++] = 0xc4;
    chunk[at++] = length;
  } else if (length < 0x10000) {
    chunk[at++] = 0xc5;
    chunk[at++] = length >> 8;
    chunk[at++] = length & 0xff;
  } else {
    chunk[at++] = 0xc6;
    view.setUint32(at, length);
    at += 4;
  }
  chunk.set(bytes, at);
  at += length;
}
