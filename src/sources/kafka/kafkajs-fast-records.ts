import { kafkajsModulePath, moduleCache, replaceKafkajsModule, requireKafkajs } from './kafkajs-internals.ts';

/**
 * kafkajs 2.2.4 decodes a fetched record batch record by record through general-purpose parts:
 * each record's bytes are cut into a Buffer of their own and read by a new `Decoder`; its offset
 * and timestamp go through kafkajs's 64-bit `Long` (the batch's first offset and timestamp, decimal
 * strings, parsed, added to and formatted back for every record); and the consumer's `Batch` parses
 * each record's offset string into a Long again to compare it. That came to 1.5–2.5 µs per
 * record (microbench; 1–1.7 with the record decoder Sluice replaced before) and a dozen objects,
 * and a fetch's records (~5.8k of them for the gateway's 3 MiB fetches) wait their turn through
 * young-generation collections (issue 12).
 *
 * This module replaces kafkajs's record-batch decoder (`protocol/recordBatch/v0/decoder.js`) by one
 * that reads the records straight from the batch's bytes and gives, per record, one object
 * (FetchedRecord) with what kafkajs's own decoder gives, with two differences kafkajs's consumer
 * does not see (it reads offsets only through `Long.fromValue`, which takes numbers and strings):
 *  - `offset` is a number wherever it is exact (below 2^53, so always in practice), kafkajs's
 *    decimal string otherwise;
 *  - `timestamp`, which nothing in Sluice reads, is formatted when read, not per record;
 * and records without headers share one frozen empty header map. Everything else — the batch's
 * fields, compressed batches (decompressed by kafkajs's own codecs), headers, control batches,
 * log-append time — is kafkajs's, and test/unit/kafkajs-fast-records.test.ts checks each field
 * against kafkajs's own decoder.
 *
 * It is installed when a Sluice Kafka client is built (kafkajs-client.ts), before any fetch:
 * kafkajs loads its fetch decoders on the first fetch, and the fetch response keeps the batch
 * decoder it loaded, so once kafkajs has fetched in this process the stock one stays.
 */

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): LongValue;
  readVarLong(): LongValue;
  readAll(): Buffer;
  readVarIntArray<T>(reader: (decoder: KafkajsDecoder) => T): T[];
  slice(size: number): KafkajsDecoder;
  forward(size: number): void;
}

interface LongValue {
  add(other: LongValue | number): LongValue;
  toString(): string;
}

interface LongClass {
  fromValue(value: string | number | LongValue): LongValue;
  fromNumber(value: number): LongValue;
}

interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** What kafkajs gives as a record batch's fields, and as each of its records' `batchContext`. */
export interface RecordBatchContext {
  readonly firstOffset: string;
  readonly firstTimestamp: string;
  readonly partitionLeaderEpoch: number;
  readonly inTransaction: boolean;
  readonly isControlBatch: boolean;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly maxTimestamp: string;
  readonly timestampType: number;
  readonly magicByte: number;
}

export type FetchedHeaders = Readonly<Record<string, Buffer | null | (Buffer | null)[]>>;

const RECORD_BATCH_DECODER = kafkajsModulePath('src/protocol/recordBatch/v0/decoder.js');
const Long = requireKafkajs<LongClass>('src/utils/long.js');
const Decoder = requireKafkajs<new (buffer: Buffer) => KafkajsDecoder>('src/protocol/decoder.js');
const { KafkaJSPartialMessageError } = requireKafkajs<{ KafkaJSPartialMessageError: new (message: string) => Error }>('src/errors.js');
const { lookupCodecByAttributes } = requireKafkajs<{ lookupCodecByAttributes(attributes: number): Codec | undefined }>('src/protocol/message/compression/index.js');
const headerDecoder = requireKafkajs<(decoder: KafkajsDecoder) => { key: string; value: Buffer | null }>('src/protocol/recordBatch/header/v0/decoder.js');

/** Batch attribute bits (kafkajs's recordBatch/v0/decoder.js). */
const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
/** kafkajs's TimestampTypes: CREATE_TIME and LOG_APPEND_TIME. */
const CREATE_TIME = 0;
const LOG_APPEND_TIME = 1;
/** A varlong's bytes that still fit a double exactly: 7 × 7 = 49 bits. */
const MAX_EXACT_VARLONG_BYTES = 7;
/**
 * What a fetch's last, cut-off record batch throws: kafkajs's fetch decoder (`decodeMessages`)
 * catches it by name and ends the fetch's records there. Most fetches end in one, so one error
 * serves them all: a new one per fetch captured its stack twice (kafkajs's error constructors),
 * 69 ms per 1M gateway records (CPU profile), and nothing reads its message.
 */
const PARTIAL_RECORD_BATCH: Error = new KafkaJSPartialMessageError('Tried to decode a partial record batch: the fetch ends inside it');

/** The header map of every record without headers: read-only, so one serves them all. */
const NO_HEADERS: FetchedHeaders = Object.freeze({});

/** One fetched record, as kafkajs's consumer and Sluice's read it (see the header). */
export class FetchedRecord {
  /**
   * The record's topic and partition, which a record batch does not name: set by Sluice's consumer
   * (kafkajs-consumer.ts), which then hands the record on as its SourceRecord instead of a copy.
   */
  topic = '';
  partition = -1;

  constructor(
    readonly attributes: number,
    /** From the batch's first timestamp: a double where exact, else kafkajs's Long. */
    private readonly timestampDelta: number | LongValue,
    readonly offset: number | string,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: FetchedHeaders,
    readonly batchContext: RecordBatchContext,
  ) {}

  get magicByte(): number {
    return this.batchContext.magicByte;
  }

  get isControlRecord(): boolean {
    return this.batchContext.isControlBatch;
  }

  /** kafkajs's decimal string: the batch's max timestamp under log-append time, else the first plus the delta. */
  get timestamp(): string {
    const { firstTimestamp, maxTimestamp, timestampType } = this.batchContext;
    if (timestampType === LOG_APPEND_TIME && maxTimestamp) return maxTimestamp;
    const delta = this.timestampDelta;
    return typeof delta === 'number' ? plus(firstTimestamp, delta) : Long.fromValue(firstTimestamp).add(delta).toString();
  }
}

/** Decodes one record batch from a fetch response, as kafkajs's own record-batch decoder does (see the header). */
export async function decodeRecordBatch(fetchDecoder: KafkajsDecoder): Promise<Omit<RecordBatchContext, 'magicByte'> & { records: FetchedRecord[] }> {
  const firstOffset = fetchDecoder.readInt64().toString();
  const length = fetchDecoder.readInt32();
  const decoder = fetchDecoder.slice(length);
  fetchDecoder.forward(length);
  if (Buffer.byteLength(decoder.buffer) < length) throw PARTIAL_RECORD_BATCH;
  const partitionLeaderEpoch = decoder.readInt32();
  const magicByte = decoder.readInt8();
  decoder.readInt32(); // the CRC: kafkajs does not check it either
  const attributes = decoder.readInt16();
  const lastOffsetDelta = decoder.readInt32();
  const firstTimestamp = decoder.readInt64().toString();
  const maxTimestamp = decoder.readInt64().toString();
  const producerId = decoder.readInt64().toString();
  const producerEpoch = decoder.readInt16();
  const firstSequence = decoder.readInt32();
  // kafkajs's fields in kafkajs's order, so a batch and a record's context look exactly like its own.
  const batch = {
    firstOffset,
    firstTimestamp,
    partitionLeaderEpoch,
    inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
    isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
    lastOffsetDelta,
    producerId,
    producerEpoch,
    firstSequence,
    maxTimestamp,
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
  };
  const context: RecordBatchContext = { ...batch, magicByte };
  const codec = lookupCodecByAttributes(attributes);
  const count = decoder.readInt32();
  if (count <= 0) return { ...batch, records: [] };
  const bytes = codec ? await codec.decompress(decoder.readAll()) : decoder.buffer;
  return { ...batch, records: readRecords(bytes, codec ? 0 : decoder.offset, count, context) };
}

/**
 * A record batch whose bytes are all there but do not hold its records. Not kafkajs's partial
 * message: kafkajs takes that for the cut end of a fetch and drops the rest of the fetch quietly,
 * so the consumer would fetch the same batch again and again. This error ends the fetch loudly
 * (the consumer crashes, is re-created, and a partition that stays stuck fails `/readyz`).
 */
export class CorruptRecordBatch extends Error {
  override readonly name = 'CorruptRecordBatch';
}

/** Where readRecords and its varint reader are in the batch's bytes (decoding is synchronous). */
let at = 0;

function readRecords(bytes: Buffer, start: number, count: number, context: RecordBatchContext): FetchedRecord[] {
  const firstOffset = Number(context.firstOffset);
  // Offsets are sums of the first and a delta: doubles while the first and each sum are exact.
  const exactFirst = Number.isSafeInteger(firstOffset);
  const records = new Array<FetchedRecord>(count);
  at = start;
  for (let i = 0; i < count; i++) {
    const length = readVarInt(bytes);
    const end = at + length;
    if (length < 0 || end > bytes.length) throw new CorruptRecordBatch(`a record of ${length} bytes at byte ${at} of a ${bytes.length}-byte record batch`);
    const attributes = bytes[at++]!;
    const timestampDelta = readVarLong(bytes);
    const offsetDelta = readVarInt(bytes);
    const offset = firstOffset + offsetDelta;
    const key = readBytes(bytes);
    const value = readBytes(bytes);
    // The header count takes at least a byte: a record already at its end holds more than it says.
    if (at >= end) throw overrun(length, end, bytes);
    const headers = bytes[at] === 0 ? NO_HEADERS : readHeaders(bytes.subarray(at, end));
    if (at > end) throw overrun(length, end, bytes);
    at = end;
    const exactOffset = exactFirst && Number.isSafeInteger(offset) ? offset : Long.fromValue(context.firstOffset).add(offsetDelta).toString();
    records[i] = new FetchedRecord(attributes, timestampDelta, exactOffset, key, value, headers, context);
  }
  return records;
}

function overrun(length: number, end: number, bytes: Buffer): CorruptRecordBatch {
  return new CorruptRecordBatch(`a record overruns its ${length} bytes at byte ${end} of a ${bytes.length}-byte record batch`);
}

/** A zigzag varint (a length, a delta: at most 5 bytes, so exact as a double). */
function readVarInt(bytes: Buffer): number {
  let raw = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new CorruptRecordBatch(`a varint runs past the end of a ${bytes.length}-byte record batch`);
    raw += (byte & 0x7f) * scale;
    if (byte < 0x80) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    scale *= 128;
  }
}

/** A zigzag varlong as a double when it has at most 7 bytes; else kafkajs's own Long. */
function readVarLong(bytes: Buffer): number | LongValue {
  let raw = 0;
  let scale = 1;
  for (let i = at; i < at + MAX_EXACT_VARLONG_BYTES && i < bytes.length; i++) {
    const byte = bytes[i]!;
    raw += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      at = i + 1;
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    scale *= 128;
  }
  const decoder = new Decoder(bytes);
  decoder.offset = at;
  const long = decoder.readVarLong();
  at = decoder.offset;
  return long;
}

/** A key or value: null for length -1, else a view of the batch's bytes (as kafkajs's `slice`). */
function readBytes(bytes: Buffer): Buffer | null {
  const length = readVarInt(bytes);
  if (length < 0) return null;
  const start = at;
  at += length;
  return bytes.subarray(start, at);
}

/** kafkajs's header map of a record's header bytes: a header's values in order, an array once a key repeats. */
function readHeaders(headerBytes: Buffer): FetchedHeaders {
  const decoder = new Decoder(headerBytes);
  const headers = decoder.readVarIntArray(headerDecoder).reduce<Record<string, Buffer | null | (Buffer | null)[]>>(
    (obj, { key, value }) => ({
      ...obj,
      [key]: obj[key] === undefined ? value : Array.isArray(obj[key]) ? obj[key].concat([value]) : [obj[key], value],
    }),
    {},
  );
  at += decoder.offset;
  return headers;
}

/** `base` (a decimal int64) plus `delta`, formatted as kafkajs's Long does. */
function plus(base: string, delta: number): string {
  const first = Number(base);
  const sum = first + delta;
  return Number.isSafeInteger(first) && Number.isSafeInteger(sum) ? String(sum) : Long.fromValue(base).add(Long.fromNumber(delta)).toString();
}

/**
 * Puts decodeRecordBatch in kafkajs's place, unless kafkajs has fetched in this process already.
 * True when kafkajs decodes record batches with it.
 */
export function installFastRecordDecoding(): boolean {
  const loaded = moduleCache[RECORD_BATCH_DECODER];
  if (loaded) return loaded.exports === decodeRecordBatch;
  replaceKafkajsModule(RECORD_BATCH_DECODER, decodeRecordBatch);
  return true;
}
