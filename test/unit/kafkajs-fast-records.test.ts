import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch, FetchedRecord, installFastRecordDecoding } from '../../src/sources/kafka/kafkajs-fast-records.ts';

/*
 * The record-batch decoder that replaces kafkajs's (kafkajs-fast-records.ts) against kafkajs's
 * own, on batches kafkajs's own encoder writes: the same batch fields and, record for record, the
 * same fields (the offset as a number where exact, the same digits), on the double fast path and
 * on every case that must take the Long path (offsets and timestamps beyond 2^53, varlongs of 8
 * bytes and more, negative timestamps); with headers (repeated keys, empty values), gzip,
 * control and transactional batches, log-append time; and the same bytes consumed.
 */

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve('kafkajs/package.json'));
const batchDecoderPath = path.join(root, 'src/protocol/recordBatch/v0/decoder.js');

type KafkajsDecoder = { buffer: Buffer; offset: number };
type DecodedBatch = Record<string, unknown> & { records: Record<string, unknown>[] };
type Long = { fromNumber(value: number): unknown; fromValue(value: string): unknown };
const Decoder = require(path.join(root, 'src/protocol/decoder.js')) as new (buffer: Buffer) => KafkajsDecoder;
const Long = require(path.join(root, 'src/utils/long.js')) as Long;
const encodeRecord = require(path.join(root, 'src/protocol/recordBatch/record/v0/index.js')) as (record: object) => unknown;
const { RecordBatch } = require(path.join(root, 'src/protocol/recordBatch/v0/index.js')) as { RecordBatch: (batch: object) => Promise<{ buffer: Buffer }> };
const { Types: Compression } = require(path.join(root, 'src/protocol/message/compression/index.js')) as { Types: { GZIP: number } };
const stockDecoder = loadStock();

/** kafkajs's own record-batch decoder, even where this process installed the replacement. */
function loadStock(): (decoder: KafkajsDecoder) => Promise<DecodedBatch> {
  const cache = require.cache;
  const installed = cache[batchDecoderPath];
  delete cache[batchDecoderPath];
  try {
    return require(batchDecoderPath) as (decoder: KafkajsDecoder) => Promise<DecodedBatch>;
  } finally {
    if (installed) cache[batchDecoderPath] = installed;
    else delete cache[batchDecoderPath];
  }
}

interface BatchSpec {
  readonly firstOffset?: string;
  readonly firstTimestamp?: number | string;
  readonly maxTimestamp?: number | string;
  readonly records: readonly object[];
  readonly compression?: number;
  readonly transactional?: boolean;
  /** Attribute bits set in the written batch (the encoder writes neither control nor log-append time). */
  readonly setAttributes?: number;
}

/** A record batch's bytes as a fetch response carries it, written by kafkajs's encoder. */
async function batchBytes(spec: BatchSpec): Promise<Buffer> {
  const { buffer } = await RecordBatch({
    firstOffset: Long.fromValue(spec.firstOffset ?? '1048576'),
    firstTimestamp: spec.firstTimestamp ?? 1796083200000,
    maxTimestamp: spec.maxTimestamp ?? 1796083209999,
    lastOffsetDelta: spec.records.length - 1,
    compression: spec.compression,
    transactional: spec.transactional ?? false,
    records: spec.records.map(encodeRecord),
  });
  // firstOffset (8 bytes), length (4), leader epoch (4), magic (1), CRC (4): the attributes' low byte is at 22.
  if (spec.setAttributes) buffer[22]! |= spec.setAttributes;
  return buffer;
}

/** A record as kafkajs's own decoder gives it: its own enumerable fields, the offset as kafkajs's string. */
function asKafkajs(record: FetchedRecord): Record<string, unknown> {
  const { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord, batchContext } = record;
  return { magicByte, attributes, timestamp, offset: String(offset), key, value, headers, isControlRecord, batchContext };
}

async function expectSameAsKafkajs(bytes: Buffer): Promise<FetchedRecord[]> {
  const fastDecoder = new Decoder(bytes);
  const stockDecoderInstance = new Decoder(bytes);
  const { records: fastRecords, ...fastBatch } = await decodeRecordBatch(fastDecoder as never);
  const { records: stockRecords, ...stockBatch } = await stockDecoder(stockDecoderInstance);
  expect(fastBatch).toEqual(stockBatch);
  expect(Object.keys(fastBatch)).toEqual(Object.keys(stockBatch));
  expect(fastRecords.map(asKafkajs)).toEqual(stockRecords);
  for (let i = 0; i < stockRecords.length; i++) {
    expect(Object.keys(asKafkajs(fastRecords[i]!))).toEqual(Object.keys(stockRecords[i]!));
    expect(Object.keys(fastRecords[i]!.batchContext)).toEqual(Object.keys(stockRecords[i]!.batchContext as object));
  }
  expect(fastDecoder.offset).toBe(stockDecoderInstance.offset);
  expect(fastDecoder.offset).toBe(bytes.length);
  return fastRecords;
}

describe('the fast kafkajs record-batch decoder', () => {
  const value = Buffer.from('{"request_id":"r-1"}');
  const record = (offsetDelta: number, timestampDelta: number | string, extra: object = {}) => ({ offsetDelta, timestampDelta, key: null, value, ...extra });
  const cases: [string, BatchSpec][] = [
    ['typical records', { records: [record(0, 0), record(1, 1234), record(2, 1500)] }],
    ['keys, offset 0', { firstOffset: '0', records: [record(0, 0, { key: Buffer.from('k') }), record(1, 0, { key: Buffer.alloc(0) })] }],
    ['a negative timestamp delta', { firstOffset: '99', records: [record(0, 0), record(1, -5000)] }],
    ['no timestamp (-1)', { firstOffset: '5', firstTimestamp: -1, maxTimestamp: -1, records: [record(0, 0), record(1, 0)] }],
    ['a delta of 7 varlong bytes (the largest exact one)', { records: [record(0, 2 ** 47)] }],
    ['a delta of 8 varlong bytes (Long path)', { records: [record(0, 2 ** 52), record(1, 3)] }],
    ['a delta of 10 varlong bytes (Long path)', { firstTimestamp: '9223372036854775000', records: [record(0, '-9223372036854775000'), record(1, 7)] }],
    ['an offset beyond 2^53 (Long path)', { firstOffset: '9007199254740993', records: [record(0, 10), record(2, 11)] }],
    ['offsets across 2^53 (exact, then Long path)', { firstOffset: '9007199254740990', firstTimestamp: '9007199254740990', records: [record(0, 1), record(1, 2), record(5, 10)] }],
    ['null values (tombstones)', { records: [record(0, 1, { key: Buffer.from('k'), value: null }), record(1, 2)] }],
    ['log-append time', { records: [record(0, 9), record(1, 10)], setAttributes: 0x8 }],
    ['a transactional batch', { records: [record(0, 0), record(1, 1)], transactional: true }],
    ['a control batch', { transactional: true, records: [record(0, 0, { key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) })], setAttributes: 0x20 }],
    [
      'headers, one key repeated, between records without',
      {
        records: [
          record(0, 0),
          record(1, 2, { headers: { reason: Buffer.from('late'), tag: [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], empty: Buffer.alloc(0) } }),
          record(2, 3),
        ],
      },
    ],
    ['a header named __proto__', { records: [record(0, 1, { headers: JSON.parse('{"__proto__":"x"}') as object })] }],
    ['gzip', { compression: Compression.GZIP, records: [record(0, 0), record(1, 5, { headers: { a: Buffer.from('1') } }), record(2, 9)] }],
  ];

  it.each(cases)('%s: the same batch and records as kafkajs, the same bytes consumed', async (_name, spec) => {
    await expectSameAsKafkajs(await batchBytes(spec));
  });

  it('gives offsets as numbers where exact, as kafkajs strings beyond 2^53', async () => {
    const near = await expectSameAsKafkajs(await batchBytes({ firstOffset: '9007199254740990', records: [record(0, 1), record(1, 2), record(5, 3)] }));
    expect(near.map((r) => r.offset)).toEqual([9007199254740990, 9007199254740991, '9007199254740995']);
    const headerless = await expectSameAsKafkajs(await batchBytes({ records: [record(0, 0), record(1, 0)] }));
    expect(headerless[0]!.headers).toBe(headerless[1]!.headers);
    expect(Object.isFrozen(headerless[0]!.headers)).toBe(true);
  });

  it('offsets and timestamps over a range of exact values match kafkajs digit for digit', async () => {
    for (const first of ['0', '1', '4294967295', '4294967296', '1796083200000', '9007199254740000']) {
      const deltas = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 35, -1, -128, -(2 ** 40)];
      const records = deltas.map((delta, i) => record(Math.max(i, Math.min(delta, 2 ** 31 - 1)), delta));
      await expectSameAsKafkajs(await batchBytes({ firstOffset: first, firstTimestamp: first, records }));
    }
  });

  it('once installed, kafkajs fetch responses are decoded by it (records of its class, numeric offsets)', async () => {
    // loadStock left the batch decoder out of this worker's module cache, and nothing here has fetched.
    expect(installFastRecordDecoding()).toBe(true);
    const decodeMessages = require(path.join(root, 'src/protocol/requests/fetch/v4/decodeMessages.js')) as (decoder: KafkajsDecoder) => Promise<unknown[]>;
    const batch = await batchBytes({ firstOffset: '7', records: [record(0, 0), record(1, 1)] });
    const sized = Buffer.alloc(4 + batch.length);
    sized.writeInt32BE(batch.length, 0); // a partition's record set, as a fetch response frames it
    batch.copy(sized, 4);
    const records = await decodeMessages(new Decoder(sized));
    expect(records.map((r) => r instanceof FetchedRecord)).toEqual([true, true]);
    expect(records.map((r) => (r as FetchedRecord).offset)).toEqual([7, 8]);
  });

  it('a fetch cut inside a batch is a partial message to both, as kafkajs expects at a fetch’s end', async () => {
    const bytes = await batchBytes({ records: [record(0, 0), record(1, 1)] });
    const cut = bytes.subarray(0, bytes.length - 5);
    await expect(decodeRecordBatch(new Decoder(cut) as never)).rejects.toMatchObject({ name: 'KafkaJSPartialMessageError' });
    await expect(stockDecoder(new Decoder(cut))).rejects.toMatchObject({ name: 'KafkaJSPartialMessageError' });
  });

  it('a record that claims more bytes than its batch holds is a corrupt batch, not read past it', async () => {
    const bytes = await batchBytes({ records: [record(0, 0)] });
    // The first record's length varint follows the 61-byte batch header and the record count.
    bytes[61]! = 0x7e; // zigzag 63: more than the record's bytes
    // Not kafkajs's partial message, which would make kafkajs drop the rest of the fetch quietly.
    await expect(decodeRecordBatch(new Decoder(bytes) as never)).rejects.toMatchObject({ name: 'CorruptRecordBatch', message: expect.stringMatching(/record of 63 bytes/) });
  });

  it('a record shorter than its fields (no room left for its header count) is a corrupt batch', async () => {
    const bytes = await batchBytes({ records: [record(0, 0)] });
    bytes[61]! -= 2; // one byte shorter (zigzag): the header count falls outside the record
    await expect(decodeRecordBatch(new Decoder(bytes) as never)).rejects.toMatchObject({ name: 'CorruptRecordBatch', message: expect.stringMatching(/overruns its/) });
  });

  it('a record whose header value claims more bytes than the record holds is a corrupt batch', async () => {
    const bytes = await batchBytes({ records: [record(0, 0, { headers: { a: Buffer.from('xyz') } })] });
    // The batch ends with the record's only header: value length (zigzag 3 = 6), then 'xyz'.
    expect(bytes[bytes.length - 4]).toBe(6);
    bytes[bytes.length - 4] = 20; // zigzag 10: past the record's end
    await expect(decodeRecordBatch(new Decoder(bytes) as never)).rejects.toMatchObject({ name: 'CorruptRecordBatch', message: expect.stringMatching(/overruns its/) });
  });

  it('a batch that counts more records than its bytes hold is a corrupt batch', async () => {
    const bytes = await batchBytes({ records: [record(0, 0)] });
    bytes.writeInt32BE(2, 57); // the record count, just before the first record
    await expect(decodeRecordBatch(new Decoder(bytes) as never)).rejects.toMatchObject({ name: 'CorruptRecordBatch', message: expect.stringMatching(/varint runs past the end/) });
  });
});
