import type { KafkaHeaders, SourceRecord } from '../../../src/sources/kafka/client.ts';

/** A transaction's outcome as its records carry it. */
export interface TransactionState {
  status: 'open' | 'committed' | 'aborted';
}

interface Entry {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: KafkaHeaders;
  /** Absent: written outside a transaction, visible at once. */
  readonly transaction?: TransactionState;
  /** A commit or abort marker: takes an offset, is never delivered (as in Kafka). */
  readonly control?: true;
}

/**
 * One partition's log with Kafka's read_committed rules: a reader sees records up to the last
 * stable offset (the first offset of a still open transaction), never an aborted record or a
 * transaction marker, and markers take offsets as they do on a real broker.
 */
export class PartitionLog {
  private readonly entries: Entry[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** The next offset to be written (the high watermark). */
  get high(): number {
    return this.entries.length;
  }

  /** The first offset a read_committed reader may not pass yet. */
  get lastStable(): number {
    const open = this.entries.findIndex((e) => e.transaction?.status === 'open');
    return open < 0 ? this.entries.length : open;
  }

  append(key: Buffer | null, value: Buffer | null, headers: KafkaHeaders = {}, transaction?: TransactionState): number {
    this.entries.push({ key, value, headers, ...(transaction ? { transaction } : {}) });
    return this.entries.length - 1;
  }

  appendMarker(): void {
    this.entries.push({ key: null, value: null, headers: {}, control: true });
  }

  /**
   * Reads from `from` below the last stable offset, at most `max` records. Returns the visible
   * records and the offset after the range scanned (markers and aborted records included).
   */
  read(from: number, max: number): { records: SourceRecord[]; next: number } {
    const end = this.lastStable;
    const records: SourceRecord[] = [];
    let offset = Math.max(0, from);
    for (; offset < end && records.length < max; offset++) {
      const entry = this.entries[offset]!;
      if (entry.control || entry.transaction?.status === 'aborted') continue;
      records.push({ topic: this.topic, partition: this.partition, offset, key: entry.key, value: entry.value, headers: entry.headers });
    }
    return { records, next: offset };
  }

  /** Every record a read_committed reader would see, from the start. */
  visible(): SourceRecord[] {
    return this.read(0, Number.MAX_SAFE_INTEGER).records;
  }
}
