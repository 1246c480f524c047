import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { filterAbortedRecords } from '../../../src/sources/kafka/kafkajs-read-committed.ts';

/** Records as kafkajs decodes them: offsets as strings, producer id and transactional flag from their record batch. */
const data = (offset: number, producerId: string, inTransaction = true) => ({
  offset: String(offset),
  key: null,
  value: `${producerId}@${offset}`,
  isControlRecord: false,
  batchContext: { producerId, inTransaction },
});
const marker = (offset: number, producerId: string, type: 'abort' | 'commit') => ({
  offset: String(offset),
  key: Buffer.from([0, 0, 0, type === 'abort' ? 0 : 1]),
  value: `${type}:${producerId}`,
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});
const aborted = (producerId: string, firstOffset: number) => ({ producerId, firstOffset: String(firstOffset) });
const values = (records: { value: string; isControlRecord: boolean }[]) => records.filter((r) => !r.isControlRecord).map((r) => r.value);

describe('read_committed filtering (the Java consumer rule)', () => {
  it('drops every aborted transaction a fetch starts inside, not only the first', () => {
    // a, b, c opened transactions at 0, 1, 2 and aborted them; the fetch starts at 3.
    const records = [data(3, 'c'), data(4, 'b'), data(5, 'ok'), data(6, 'a'), marker(7, 'a', 'abort'), marker(8, 'b', 'abort'), marker(9, 'c', 'abort'), data(10, 'ok')];
    const out = filterAbortedRecords({ messages: records, abortedTransactions: [aborted('a', 0), aborted('b', 1), aborted('c', 2)] });
    expect(values(out)).toEqual(['ok@5', 'ok@10']);
  });

  it('takes the broker list in marker order, sorting it by first offset', () => {
    const records = [data(0, 'a'), data(1, 'b'), data(2, 'ok'), marker(3, 'b', 'abort'), data(4, 'a'), marker(5, 'a', 'abort')];
    const out = filterAbortedRecords({ messages: records, abortedTransactions: [aborted('b', 1), aborted('a', 0)] });
    expect(values(out)).toEqual(['ok@2']);
  });

  it('keeps a producer\'s later committed transaction and its non-transactional records', () => {
    const records = [data(0, 'p'), marker(1, 'p', 'abort'), data(2, 'p'), marker(3, 'p', 'commit'), data(4, 'p', false)];
    const out = filterAbortedRecords({ messages: records, abortedTransactions: [aborted('p', 0)] });
    expect(values(out)).toEqual(['p@2', 'p@4']);
  });

  it('a user record keyed like an abort marker does not end an aborted transaction', () => {
    const fake = { ...data(1, 'p', false), key: Buffer.from([0, 0, 0, 0]) };
    const out = filterAbortedRecords({ messages: [data(0, 'p'), fake, data(2, 'p')], abortedTransactions: [aborted('p', 0)] });
    expect(values(out)).toEqual(['p@1']);
  });

  it('compares int64 offsets exactly', () => {
    const big = 2 ** 53 + 2;
    const records = [data(big, 'q'), { ...data(big, 'ok'), offset: (BigInt(big) + 1n).toString() }];
    const out = filterAbortedRecords({ messages: records, abortedTransactions: [{ producerId: 'q', firstOffset: (BigInt(big) - 1n).toString() }] });
    expect(values(out)).toEqual([`ok@${big}`]);
  });

  it('is the filter kafkajs\'s fetched batches use', () => {
    const require = createRequire(import.meta.url);
    const Batch = require('kafkajs/src/consumer/batch.js') as new (topic: string, fetchedOffset: string, partitionData: unknown) => { messages: { value: string }[] };
    const batch = new Batch('t', '3', {
      partition: 0,
      highWatermark: '11',
      abortedTransactions: [aborted('a', 0), aborted('b', 1), aborted('c', 2)],
      messages: [data(3, 'c'), data(4, 'b'), data(5, 'ok'), data(6, 'a'), marker(7, 'a', 'abort'), marker(8, 'b', 'abort'), marker(9, 'c', 'abort'), data(10, 'ok')],
    });
    expect(batch.messages.map((m) => m.value)).toEqual(['ok@5', 'ok@10']);
  });
});
