import { requireKafkajs } from './kafkajs-internals.ts';
import type { AbortedTransaction } from './kafkajs-read-committed.ts';

/**
 * kafkajs 2.2.4's consumer wraps each partition's fetched records in a `Batch` whose constructor
 * drops records before the fetched offset by parsing every record's offset into a 64-bit `Long`
 * (a BigInt and an object per record) to compare it, into a new array, and drops control records
 * into another, whatever the fetch held. With Sluice's record decoder (kafkajs-fast-records.ts)
 * offsets are already exact numbers, so this Batch compares numbers and hands the fetched array on
 * when nothing is dropped, as for almost every fetch. It is kafkajs's class otherwise: its
 * prototype's methods, the same fields with the same contents, and kafkajs's own path for offsets
 * past 2^53 (strings from either decoder). Nothing in kafkajs's consumer or Sluice's changes a
 * batch's arrays, so one array as `rawMessages` and `messages` is safe.
 *
 * Installed with the read_committed fix (kafkajs-read-committed.ts), which must replace kafkajs's
 * modules before its consumer loads; test/unit/kafka/kafkajs-batch.test.ts checks every field
 * against kafkajs's own Batch.
 */

interface LongValue {
  gte(other: LongValue): boolean;
}

interface LongClass {
  fromValue(value: string | number): LongValue;
}

/** What the Batch reads of a fetched record (kafkajs's decoder gives offsets as strings, Sluice's as numbers). */
interface BatchRecord {
  readonly offset: string | number;
  readonly isControlRecord?: boolean;
}

/** The read_committed filter (kafkajs-read-committed.ts): the records no aborted transaction wrote. */
type AbortedFilter<R> = (fetch: { messages: R[]; abortedTransactions?: readonly AbortedTransaction[] }) => R[];

interface PartitionData<R> {
  readonly partition: number;
  readonly highWatermark: string;
  readonly abortedTransactions?: readonly AbortedTransaction[];
  readonly messages: R[];
}

const Long = requireKafkajs<LongClass>('src/utils/long.js');

/** A decimal int64 as an exact number; undefined past 2^53 (or anything but a plain integer). */
function exactOffset(offset: string | number): number | undefined {
  const n = typeof offset === 'number' ? offset : /^-?\d{1,16}$/.test(offset) ? Number(offset) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** `records` at or past `fetchedOffset`: the same array when none is before it. */
function withinOffset<R extends BatchRecord>(records: R[], fetchedOffset: string | number): R[] {
  const from = exactOffset(fetchedOffset);
  if (from === undefined) return records.filter(atOrPast(Long.fromValue(fetchedOffset)));
  let before = 0;
  for (let i = 0; i < records.length; i++) {
    const offset = records[i]!.offset;
    if (typeof offset !== 'number') return records.filter(atOrPast(Long.fromValue(fetchedOffset)));
    if (offset < from) before++;
  }
  return before === 0 ? records : records.filter((record) => (record.offset as number) >= from);
}

/** kafkajs's own comparison, for offsets that are not exact numbers. */
function atOrPast(from: LongValue): (record: BatchRecord) => boolean {
  return (record) => Long.fromValue(record.offset).gte(from);
}

/** `records` without control records: the same array when there are none. */
function withoutControlRecords<R extends BatchRecord>(records: R[]): R[] {
  for (let i = 0; i < records.length; i++) if (records[i]!.isControlRecord) return records.filter((record) => !record.isControlRecord);
  return records;
}

/**
 * kafkajs's Batch class with a constructor of its own: `kafkajsBatch`'s methods (`isEmpty`,
 * `lastOffset`, `offsetLag`, ...) through its prototype, so `instanceof` holds as well.
 */
export function fastBatchOf<R extends BatchRecord>(kafkajsBatch: abstract new (...args: never[]) => object, filterAborted: AbortedFilter<R>) {
  /** kafkajs's constructor's fields, in its order. */
  class FastBatch {
    readonly fetchedOffset: string;
    readonly topic: string;
    readonly partition: number;
    readonly highWatermark: string;
    readonly rawMessages: R[];
    readonly messagesWithinOffset: R[];
    readonly messages: R[];

    constructor(topic: string, fetchedOffset: string, partitionData: PartitionData<R>) {
      this.fetchedOffset = fetchedOffset;
      this.topic = topic;
      this.partition = partitionData.partition;
      this.highWatermark = partitionData.highWatermark;
      this.rawMessages = partitionData.messages;
      // kafkajs's reason: a fetch may return records before the offset asked for (a compressed batch's).
      this.messagesWithinOffset = withinOffset(this.rawMessages, fetchedOffset);
      this.messages = withoutControlRecords(filterAborted({ messages: this.messagesWithinOffset, abortedTransactions: partitionData.abortedTransactions }));
    }
  }

  Object.setPrototypeOf(FastBatch.prototype, kafkajsBatch.prototype);
  return FastBatch;
}
