import { createRequire, Module } from 'node:module';
import path from 'node:path';

/**
 * kafkajs 2.2.4 decodes every fetched record's offset and timestamp through its 64-bit `Long`
 * class: the timestamp delta, a varlong, costs a Long shift and add per byte, and then the batch's
 * first offset and first timestamp, decimal strings, are parsed into Longs, added to, and
 * formatted back to strings, for every record (Long division per digit group). That was about
 * 5 % of the gateway pipeline's busy CPU and a dozen short-lived objects per record (issue 12).
 *
 * This module replaces kafkajs's record decoder (`protocol/recordBatch/record/v0/decoder.js`) by
 * one that gives the same record object, field for field, but does that arithmetic on doubles
 * whenever it is exact: a varlong of at most 7 bytes (49 bits), and sums within ±2^53 (offsets
 * and millisecond timestamps are far below). Anything else — a longer varlong, a sum that is not a
 * safe integer — takes kafkajs's own Long path, so the result never differs. A record without
 * headers gets its empty `{}` directly; one with headers is decoded by kafkajs's own code.
 *
 * It is installed when a Sluice Kafka client is built (kafkajs-client.ts), before any fetch:
 * kafkajs loads its fetch decoders on the first fetch, and the record-batch decoder keeps the
 * record decoder it loaded, so once kafkajs has fetched in this process the stock one stays.
 */

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): LongValue;
  readVarIntBytes(): Buffer | null;
  readVarIntArray<T>(reader: (decoder: KafkajsDecoder) => T): T[];
}

interface LongValue {
  add(other: LongValue | number): LongValue;
  toString(): string;
}

interface LongClass {
  fromValue(value: string | number | LongValue): LongValue;
  fromNumber(value: number): LongValue;
}

export interface RecordBatchContext {
  readonly firstOffset: string;
  readonly firstTimestamp: string;
  readonly magicByte?: number;
  readonly isControlBatch?: boolean;
  readonly timestampType?: number;
  readonly maxTimestamp?: string;
}

export interface FetchedRecord {
  readonly magicByte: number | undefined;
  readonly attributes: number;
  readonly timestamp: string;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | null | (Buffer | null)[]>;
  readonly isControlRecord: boolean;
  readonly batchContext: RecordBatchContext;
}

type RecordDecoder = (decoder: KafkajsDecoder, batchContext?: RecordBatchContext) => FetchedRecord;

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve('kafkajs/package.json'));
const RECORD_DECODER = path.join(root, 'src/protocol/recordBatch/record/v0/decoder.js');
const RECORD_BATCH_DECODER = path.join(root, 'src/protocol/recordBatch/v0/decoder.js');
const Long = require(path.join(root, 'src/utils/long.js')) as LongClass;
const headerDecoder = require(path.join(root, 'src/protocol/recordBatch/header/v0/decoder.js')) as (decoder: KafkajsDecoder) => { key: string; value: Buffer | null };
/** kafkajs's TimestampTypes.LOG_APPEND_TIME. */
const LOG_APPEND_TIME = 1;
/** A varlong's bytes that still fit a double exactly: 7 × 7 = 49 bits. */
const MAX_EXACT_VARLONG_BYTES = 7;

/** A decoded record exactly as kafkajs's own record decoder gives it (see the header). */
export const decodeFetchedRecord: RecordDecoder = (decoder, batchContext = {} as RecordBatchContext) => {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  const attributes = decoder.readInt8();
  const timestampDelta = readVarLongExact(decoder);
  let timestamp: string;
  if (timestampType === LOG_APPEND_TIME && maxTimestamp) timestamp = maxTimestamp;
  else if (typeof timestampDelta === 'number') timestamp = plus(firstTimestamp, timestampDelta);
  else timestamp = Long.fromValue(firstTimestamp).add(timestampDelta).toString();
  const offset = plus(firstOffset, decoder.readVarInt());
  const key = decoder.readVarIntBytes();
  const value = decoder.readVarIntBytes();
  return { magicByte, attributes, timestamp, offset, key, value, headers: readHeaders(decoder), isControlRecord: isControlBatch, batchContext };
};

/** `base` (a decimal int64) plus `delta`, formatted as kafkajs's Long does. */
function plus(base: string, delta: number): string {
  const first = Number(base);
  const sum = first + delta;
  return Number.isSafeInteger(first) && Number.isSafeInteger(sum) ? String(sum) : Long.fromValue(base).add(Long.fromNumber(delta)).toString();
}

/** A zigzag varlong as a double when it has at most 7 bytes; else kafkajs's own Long. */
function readVarLongExact(decoder: KafkajsDecoder): number | LongValue {
  const { buffer } = decoder;
  const start = decoder.offset;
  let raw = 0;
  let scale = 1;
  for (let i = start; i < start + MAX_EXACT_VARLONG_BYTES && i < buffer.length; i++) {
    const byte = buffer[i]!;
    raw += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      decoder.offset = i + 1;
      // Zigzag: even raw values are the non-negative ones.
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    scale *= 128;
  }
  return decoder.readVarLong();
}

/** kafkajs's header map: a header's values in order, an array once a key repeats. */
function readHeaders(decoder: KafkajsDecoder): FetchedRecord['headers'] {
  // The count is a zigzag varint: 0 headers is the single byte 0.
  if (decoder.buffer[decoder.offset] === 0) {
    decoder.offset++;
    return {};
  }
  return decoder.readVarIntArray(headerDecoder).reduce<FetchedRecord['headers']>(
    (obj, { key, value }) => ({
      ...obj,
      [key]: obj[key] === undefined ? value : Array.isArray(obj[key]) ? obj[key].concat([value]) : [obj[key], value],
    }),
    {},
  );
}

/**
 * Puts decodeFetchedRecord in kafkajs's place, unless kafkajs has fetched in this process
 * already. True when kafkajs decodes records with it.
 */
export function installFastRecordDecoding(): boolean {
  const cache = require.cache;
  const current = cache[RECORD_DECODER];
  if (current?.exports === decodeFetchedRecord) return true;
  if (cache[RECORD_BATCH_DECODER]) return false;
  const replacement = new Module(RECORD_DECODER);
  replacement.filename = RECORD_DECODER;
  replacement.loaded = true;
  replacement.exports = decodeFetchedRecord;
  cache[RECORD_DECODER] = replacement;
  return true;
}
