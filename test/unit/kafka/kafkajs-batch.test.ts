import '../../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: installs the Batch under test
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/*
 * Sluice's consumer Batch (kafkajs-batch.ts) against kafkajs's own, which it keeps as its
 * prototype: every field and every method's answer the same, for fetches as Sluice's record
 * decoder gives them (offsets as numbers) and as kafkajs's gives them (strings).
 */
type Fetched = { offset: string | number; key: Buffer | null; value: string; isControlRecord: boolean; batchContext: { producerId: string; inTransaction: boolean } };
type BatchLike = Record<string, unknown> & { messages: Fetched[]; [method: string]: unknown };
type BatchClass = new (topic: string, fetchedOffset: string, partitionData: unknown) => BatchLike;

const require = createRequire(import.meta.url);
const SluiceBatch = require('kafkajs/src/consumer/batch.js') as BatchClass;
const KafkajsBatch = Object.getPrototypeOf(SluiceBatch.prototype).constructor as BatchClass;

const record = (offset: string | number, producerId = 'p', inTransaction = true): Fetched => ({
  offset,
  key: null,
  value: `${producerId}@${offset}`,
  isControlRecord: false,
  batchContext: { producerId, inTransaction },
});
const marker = (offset: string | number, producerId: string, type: 'abort' | 'commit'): Fetched => ({
  offset,
  key: Buffer.from([0, 0, 0, type === 'abort' ? 0 : 1]),
  value: `${type}:${producerId}`,
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});

const METHODS = ['isEmpty', 'isEmptyIncludingFiltered', 'isEmptyDueToFiltering', 'isEmptyControlRecord', 'isEmptyDueToLogCompactedMessages', 'firstOffset', 'lastOffset', 'offsetLag', 'offsetLagLow'];

/** Everything a Batch shows: its fields (arrays by content) and each method's answer. */
function observed(batch: BatchLike): Record<string, unknown> {
  const fields = Object.fromEntries(Object.entries(batch).map(([name, value]) => [name, Array.isArray(value) ? [...value] : value]));
  const answers = Object.fromEntries(METHODS.map((name) => [name, (batch[name] as () => unknown).call(batch)]));
  return { fields, keys: Object.keys(batch), answers };
}

const big = 2 ** 53;
const cases: [string, string, { highWatermark: string; abortedTransactions?: { producerId: string; firstOffset: string }[]; messages: Fetched[] }][] = [
  ['records from the offset asked for (numbers)', '100', { highWatermark: '110', messages: [100, 101, 102].map((o) => record(o)) }],
  ['records from the offset asked for (strings)', '100', { highWatermark: '110', messages: ['100', '101', '102'].map((o) => record(o)) }],
  ['a compressed batch starting before the offset asked for', '102', { highWatermark: '110', messages: [100, 101, 102, 103].map((o) => record(o)) }],
  ['only records before the offset asked for (compacted)', '105', { highWatermark: '110', messages: [100, 101].map((o) => record(o)) }],
  ['no records', '7', { highWatermark: '7', messages: [] }],
  ['a commit marker', '0', { highWatermark: '3', messages: [record(0), record(1), marker(2, 'p', 'commit')] }],
  ['only a control record', '2', { highWatermark: '3', messages: [marker(2, 'p', 'commit')] }],
  [
    'aborted transactions',
    '0',
    { highWatermark: '6', abortedTransactions: [{ producerId: 'a', firstOffset: '0' }], messages: [record(0, 'a'), record(1, 'ok'), marker(2, 'a', 'abort'), record(3, 'ok', false)] },
  ],
  ['offsets past 2^53 (strings)', String(BigInt(big) + 1n), { highWatermark: String(BigInt(big) + 9n), messages: [0n, 1n, 2n].map((d) => record(String(BigInt(big) + d))) }],
  ['numbers and strings in one fetch', '2', { highWatermark: '9', messages: [record(1), record('2'), record(3)] }],
];

describe("Sluice's kafkajs consumer Batch", () => {
  it("is the Batch kafkajs's consumer builds, on kafkajs's own class", () => {
    expect(SluiceBatch).not.toBe(KafkajsBatch);
    expect(new SluiceBatch('t', '0', { partition: 0, highWatermark: '0', messages: [] })).toBeInstanceOf(KafkajsBatch);
  });

  for (const [name, fetchedOffset, data] of cases) {
    it(`shows what kafkajs's Batch shows: ${name}`, () => {
      const partitionData = { partition: 3, ...data };
      const ours = observed(new SluiceBatch('topic', fetchedOffset, partitionData));
      expect(ours).toEqual(observed(new KafkajsBatch('topic', fetchedOffset, partitionData)));
    });
  }

  it('drops what it must in each case above (the comparison is not of two empty batches)', () => {
    const kept = cases.map(([, fetchedOffset, data]) => new SluiceBatch('topic', fetchedOffset, { partition: 0, ...data }).messages.map((m) => m.value));
    expect(kept).toEqual([
      ['p@100', 'p@101', 'p@102'],
      ['p@100', 'p@101', 'p@102'],
      ['p@102', 'p@103'],
      [],
      [],
      ['p@0', 'p@1'],
      [],
      ['ok@1', 'ok@3'],
      [`p@${BigInt(big) + 1n}`, `p@${BigInt(big) + 2n}`],
      ['p@2', 'p@3'],
    ]);
  });
});
