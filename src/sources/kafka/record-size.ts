import type { OutgoingMessage } from './client.ts';

/**
 * Byte sizes as a broker counts them against `max.message.bytes`, which (record format v2)
 * limits a whole record batch: one batch per partition per produce request.
 */

/** The fixed header of a v2 record batch. */
export const RECORD_BATCH_OVERHEAD = 61;

/** Per record: length, attributes, timestamp and offset deltas, key and value lengths (varints, at most). */
const RECORD_OVERHEAD = 5 + 1 + 10 + 5 + 5 + 5 + 5;
/** Per header: name and value lengths (varints, at most). */
const HEADER_OVERHEAD = 5 + 5;

/** An upper bound on a message's size inside an uncompressed record batch. */
export function recordBytes(message: OutgoingMessage): number {
  let bytes = RECORD_OVERHEAD + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += HEADER_OVERHEAD + Buffer.byteLength(name) + byteLength(value);
  return bytes;
}

/** Consecutive runs of `items` of at most `maxBytes` each, in order; an item larger than that is a run of its own. */
export function chunksBySize<T extends OutgoingMessage>(items: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = recordBytes(item);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
