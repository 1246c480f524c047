import { fastBatchOf } from './kafkajs-batch.ts';
import { kafkajsModulePath, moduleCache, replaceKafkajsModule, requireKafkajs } from './kafkajs-internals.ts';

/**
 * kafkajs 2.2.4 (its last release) lets records of aborted transactions through to read_committed
 * consumers. Its `filterAbortedMessages` starts tracking at most ONE aborted transaction per
 * record it looks at, and assumes the broker lists aborted transactions by first offset. A fetch
 * that starts inside several aborted transactions (which is how stage 2 reads the partials topic
 * after a crash: every stage-1 task's open transaction was aborted, interleaved with the others)
 * then hands out records of all but the first of them, and stage 2 counted them a second time
 * when stage 1 re-did that work (the exactly-once crash test over-counted one window by 9–35
 * records, about 0.3 %). The broker keeps its aborted-transaction index in the order the abort
 * markers were written, not by first offset.
 *
 * This module replaces that one function, before kafkajs loads it, by the Java consumer's rule
 * (`CompletedFetch.consumeAbortedTransactionsUpTo`): aborted transactions ordered by first offset;
 * before each record, every one that starts at or before it makes its producer "aborted"; a
 * transactional record of an aborted producer is dropped; that producer's abort marker ends it.
 * kafkajs is unmaintained, so the fix cannot go upstream; it lives here, next to the client.
 *
 * Import this module before anything imports `kafkajs` (kafkajs-client.ts does so first). It
 * fails loudly if kafkajs's consumer was loaded already, since the broken filter would be in use.
 * It puts the consumer's `Batch`, which calls the filter, in place as well (kafkajs-batch.ts).
 */

/** An aborted transaction a fetch response names for a partition (also read by kafkajs-batch.ts). */
export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

interface FetchedRecord {
  /** A number from Sluice's record-batch decoder (kafkajs-fast-records.ts), a decimal string from kafkajs's. */
  readonly offset: string | number;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

/** A control record's key: version 0 and type 0 (ABORT); a commit marker has type 1. */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

/** The records of `records` (one partition's fetch, in offset order) that no aborted transaction wrote. */
export function filterAbortedRecords<R extends FetchedRecord>({ messages: records, abortedTransactions }: { messages: R[]; abortedTransactions?: readonly AbortedTransaction[] }): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return records;
  const pending = [...abortedTransactions].sort((a, b) => compareOffsets(a.firstOffset, b.firstOffset));
  const abortedProducers = new Set<string>();
  let next = 0;
  return records.filter((record) => {
    while (next < pending.length && compareOffsets(pending[next]!.firstOffset, record.offset) <= 0) {
      abortedProducers.add(pending[next]!.producerId);
      next++;
    }
    const { producerId, inTransaction } = record.batchContext;
    if (record.isControlRecord) {
      if (record.key !== null && ABORT_MARKER_KEY.equals(record.key)) abortedProducers.delete(producerId);
      return true; // kafkajs drops control records itself, after this filter
    }
    return !(inTransaction && abortedProducers.has(producerId));
  });
}

/** Offsets arrive as decimal strings of int64s (or exact numbers): compare them exactly. */
function compareOffsets(a: string | number, b: string | number): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const FIXED = Symbol.for('sluice.kafkajs-read-committed');

function install(): void {
  const filterPath = kafkajsModulePath('src/consumer/filterAbortedMessages.js');
  const batchPath = kafkajsModulePath('src/consumer/batch.js');
  // A test runner may evaluate this module again in one process: the mark, not the function's identity, says it is installed.
  const installed = (moduleCache[filterPath]?.exports as Record<symbol, unknown> | undefined)?.[FIXED] === true;
  if (installed) return;
  if (moduleCache[batchPath]) throw new Error('kafkajs was loaded before its read_committed fix: import src/sources/kafka/kafkajs-read-committed.ts first');
  replaceKafkajsModule(filterPath, Object.assign(filterAbortedRecords, { [FIXED]: true }));
  // The consumer's Batch, which calls this filter, replaced here too: it must be in place before
  // kafkajs's consumer loads, as the filter must (kafkajs-batch.ts).
  replaceKafkajsModule(batchPath, fastBatchOf<FetchedRecord>(requireKafkajs('src/consumer/batch.js'), filterAbortedRecords));
}

install();
