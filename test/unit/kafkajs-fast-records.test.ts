import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFetchedRecord, type RecordBatchContext } from '../../src/sources/kafka/kafkajs-fast-records.ts';

/*
 * The record decoder that replaces kafkajs's (kafkajs-fast-records.ts) against kafkajs's own, on
 * records kafkajs's own encoder writes: the same object, field for field, on the double fast path
 * and on every case that must take the Long path (offsets and timestamps beyond 2^53, varlongs of
 * 8 bytes and more, negative timestamps), and with headers (repeated keys, empty values).
 */

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve('kafkajs/package.json'));
const recordDecoderPath = path.join(root, 'src/protocol/recordBatch/record/v0/decoder.js');

type Decoder = { buffer: Buffer; offset: number; readVarIntBytes(): Buffer };
const DecoderClass = require(path.join(root, 'src/protocol/decoder.js')) as new (buffer: Buffer) => Decoder;
const encodeRecord = require(path.join(root, 'src/protocol/recordBatch/record/v0/index.js')) as (record: object) => { buffer: Buffer };
const stockDecoder = loadStock();

/** kafkajs's own record decoder, even where this process installed the replacement. */
function loadStock(): (decoder: Decoder, context: RecordBatchContext) => unknown {
  const cache = require.cache;
  const installed = cache[recordDecoderPath];
  delete cache[recordDecoderPath];
  try {
    return require(recordDecoderPath) as (decoder: Decoder, context: RecordBatchContext) => unknown;
  } finally {
    if (installed) cache[recordDecoderPath] = installed;
    else delete cache[recordDecoderPath];
  }
}

/** A record's body as the record-batch decoder hands it over: its length prefix read. */
function recordBody(record: object): Buffer {
  return new DecoderClass(encodeRecord(record).buffer).readVarIntBytes();
}

function decodeBoth(record: object, context: RecordBatchContext): { fast: unknown; stock: unknown; fastRest: number; stockRest: number } {
  const body = recordBody(record);
  const fastDecoder = new DecoderClass(body);
  const stockDecoderInstance = new DecoderClass(body);
  const fast = decodeFetchedRecord(fastDecoder as never, context);
  const stock = stockDecoder(stockDecoderInstance, context);
  return { fast, stock, fastRest: body.length - fastDecoder.offset, stockRest: body.length - stockDecoderInstance.offset };
}

const context = (firstOffset: string, firstTimestamp: string, extra: Partial<RecordBatchContext> = {}): RecordBatchContext => ({
  firstOffset,
  firstTimestamp,
  magicByte: 2,
  isControlBatch: false,
  timestampType: 0,
  maxTimestamp: firstTimestamp,
  ...extra,
});

describe('the fast kafkajs record decoder', () => {
  const value = Buffer.from('{"request_id":"r-1"}');
  const cases: [string, object, RecordBatchContext][] = [
    ['a typical record', { offsetDelta: 7, timestampDelta: 1234, key: null, value }, context('1048576', '1796083200000')],
    ['offset and timestamp deltas of 0', { offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value }, context('0', '1796083200000')],
    ['a negative timestamp delta', { offsetDelta: 3, timestampDelta: -5000, key: null, value }, context('99', '1796083200000')],
    ['no timestamp (-1)', { offsetDelta: 1, timestampDelta: 0, key: null, value }, context('5', '-1')],
    ['a delta of 7 varlong bytes (the largest exact one)', { offsetDelta: 1, timestampDelta: 2 ** 47, key: null, value }, context('5', '1796083200000')],
    ['a delta of 8 varlong bytes (Long path)', { offsetDelta: 1, timestampDelta: 2 ** 52, key: null, value }, context('5', '1796083200000')],
    ['a delta of 10 varlong bytes (Long path)', { offsetDelta: 1, timestampDelta: '-9223372036854775000', key: null, value }, context('5', '9223372036854775000')],
    ['an offset beyond 2^53 (Long path)', { offsetDelta: 2, timestampDelta: 10, key: null, value }, context('9007199254740993', '1796083200000')],
    ['a sum just past 2^53 (Long path)', { offsetDelta: 5, timestampDelta: 10, key: null, value }, context('9007199254740990', '9007199254740990')],
    ['a null value (tombstone)', { offsetDelta: 2, timestampDelta: 1, key: Buffer.from('k'), value: null }, context('12', '1796083200000')],
    ['log-append time', { offsetDelta: 2, timestampDelta: 9, key: null, value }, context('12', '1796083200000', { timestampType: 1, maxTimestamp: '1796083209999' })],
    ['a control batch', { offsetDelta: 0, timestampDelta: 0, key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }, context('40', '1796083200000', { isControlBatch: true })],
    [
      'headers, one key repeated',
      { offsetDelta: 4, timestampDelta: 2, key: null, value, headers: { reason: Buffer.from('late'), tag: [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], empty: Buffer.alloc(0) } },
      context('77', '1796083200000'),
    ],
    ['a header named __proto__', { offsetDelta: 1, timestampDelta: 1, key: null, value, headers: JSON.parse('{"__proto__":"x"}') as object }, context('77', '1796083200000')],
  ];

  it.each(cases)('%s: the same record as kafkajs, the same bytes consumed', (_name, record, batch) => {
    const { fast, stock, fastRest, stockRest } = decodeBoth(record, batch);
    expect(fast).toEqual(stock);
    expect(Object.keys(fast as object)).toEqual(Object.keys(stock as object));
    expect(fastRest).toBe(stockRest);
    expect(fastRest).toBe(0);
  });

  it('offsets and timestamps over a range of exact values match kafkajs digit for digit', () => {
    for (const first of ['0', '1', '4294967295', '4294967296', '1796083200000', '9007199254740000']) {
      for (const delta of [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 35, -1, -128, -(2 ** 40)]) {
        const offsetDelta = Math.max(0, Math.min(delta, 2 ** 31 - 1));
        const { fast, stock } = decodeBoth({ offsetDelta, timestampDelta: delta, key: null, value }, context(first, first));
        expect(fast, `first ${first}, delta ${delta}`).toEqual(stock);
      }
    }
  });
});
