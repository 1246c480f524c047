import type { OutgoingMessage } from './client.ts';

/**
 * How many bytes of messages one produce request of a transaction carries at most. Kafka refuses
 * a partition's record batch over the topic's `max.message.bytes` (1 MB by default) with
 * MESSAGE_TOO_LARGE, and kafkajs puts all of a request's messages for a partition in one batch.
 * A flush after a long backlog (a broker restart, a consumer re-created) can hold many windows of
 * partials; sent in one request, it would fail the same way on every retry.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Per-record framing Kafka adds (offset and timestamp deltas, lengths, attributes): a generous estimate. */
const RECORD_OVERHEAD = 32;

/**
 * Splits messages, in order, into runs of at most `maxBytes` (estimated); a message larger than
 * that travels alone. Order within each partition is kept, as the runs are sent one after another.
 */
export function chunkBySize<T extends OutgoingMessage>(messages: readonly T[], maxBytes = MAX_REQUEST_BYTES): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = estimateBytes(message);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function estimateBytes(message: OutgoingMessage): number {
  let size = RECORD_OVERHEAD + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) size += Buffer.byteLength(name) + byteLength(value) + 8;
  return size;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
