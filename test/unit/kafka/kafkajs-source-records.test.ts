import { describe, expect, it } from 'vitest';
import type { Batch } from 'kafkajs';
import { sourceRecordsOf } from '../../../src/sources/kafka/kafkajs-consumer.ts';
import { FetchedRecord, type RecordBatchContext } from '../../../src/sources/kafka/kafkajs-fast-records.ts';

/*
 * What Sluice's consumer hands its stages for a fetched batch: Sluice's decoded records themselves
 * (their topic and partition set), or copies where a record is not one of them or its offset is
 * kafkajs's string (past 2^53). Either way every record reads the same.
 */
const context = {} as RecordBatchContext;
const fetched = (offset: number | string, value: string) => new FetchedRecord(0, 0, offset, null, Buffer.from(value), {}, context);
const batchOf = (messages: unknown[]) => ({ topic: 'logs', partition: 2, messages }) as unknown as Batch;
const seen = (records: readonly { topic: string; partition: number; offset: number; key: Buffer | null; value: Buffer | null }[]) =>
  records.map(({ topic, partition, offset, key, value }) => ({ topic, partition, offset, key, value: value?.toString() }));

describe("the kafkajs consumer's source records", () => {
  it("are Sluice's fetched records themselves, their topic and partition set", () => {
    const messages = [fetched(7, 'a'), fetched(8, 'b')];
    const records = sourceRecordsOf(batchOf(messages));
    expect(records).toBe(messages);
    expect(seen(records)).toEqual([
      { topic: 'logs', partition: 2, offset: 7, key: null, value: 'a' },
      { topic: 'logs', partition: 2, offset: 8, key: null, value: 'b' },
    ]);
  });

  it("are copies, with numeric offsets, when a record is kafkajs's own or has a string offset", () => {
    for (const messages of [
      [fetched(7, 'a'), fetched('8', 'b')],
      [fetched(7, 'a'), { offset: '8', key: null, value: Buffer.from('b'), headers: undefined }],
    ]) {
      const records = sourceRecordsOf(batchOf(messages));
      expect(records).not.toBe(messages);
      expect(seen(records)).toEqual([
        { topic: 'logs', partition: 2, offset: 7, key: null, value: 'a' },
        { topic: 'logs', partition: 2, offset: 8, key: null, value: 'b' },
      ]);
      expect(records[1]!.headers).toEqual({});
    }
  });
});
