/**
 * The one small interface Sluice needs from a Kafka client. Everything else in Sluice talks to
 * this, never to kafkajs directly, so the client library can be replaced in one place.
 */
export interface KafkaHeaders {
  readonly [name: string]: Buffer | string | (Buffer | string)[] | undefined;
}

export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  /** Offsets stay below 2^53 in practice; numbers keep the hot path free of string maths. */
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: KafkaHeaders;
}

export interface SourceBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly SourceRecord[];
  /** The partition's high watermark when the batch was fetched (next offset to be written). */
  readonly highWatermark: number;
  /**
   * True once a seek of this partition was requested after the batch was fetched: its records
   * are not where the partition's owner continues, so it must process none of them.
   */
  readonly superseded: () => boolean;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface PartitionOffset extends TopicPartition {
  /** The next offset to read. */
  readonly offset: number;
}

export interface PartitionEnds extends TopicPartition {
  readonly low: number;
  readonly high: number;
}

export interface OutgoingMessage {
  /** Explicit partition; absent means the client's partitioner picks one from the key. */
  readonly partition?: number;
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Record<string, Buffer | string>;
}

export interface ConsumeOptions {
  readonly groupId: string;
  /** How long the group waits for a silent member before rebalancing its partitions away. */
  readonly sessionTimeoutMs?: number;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  /** Called with the full set of partitions this member owns after every rebalance. */
  readonly onAssigned: (partitions: readonly TopicPartition[]) => void;
  /** Processes one fetched batch. Offsets are never auto-committed: stage 1 commits them in its transactions, stage 2 keeps them in its checkpoint. */
  readonly onBatch: (batch: SourceBatch) => Promise<void>;
  /**
   * Called when the consumer crashed (coordinator not found, broker gone, ...) and is about to be
   * re-created after `delayMs`. The new one re-joins the group, so `onAssigned` follows: owners
   * re-take their partitions from what is committed or checkpointed.
   */
  readonly onRestart?: (error: unknown, delayMs: number) => void;
}

/**
 * A group consumer that survives broker restarts: when the client crashes it is re-created (with
 * exponential backoff and jitter, for as long as it takes) and re-joins the group. While it is
 * being re-created, pause / resume / seek have nothing to act on and do nothing: the re-join
 * hands every partition over again.
 */
export interface Consumer {
  /** Stops fetching these partitions until `resume`; batches already fetched are not delivered. */
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Continues a partition from `offset`; a batch already fetched from before is dropped. */
  seek(partition: PartitionOffset): void;
  /**
   * Leaves the group and joins it again as a new member (with the restart backoff): for an owner
   * that learnt it may have lost partitions without being told (its producer was fenced).
   */
  rejoin(reason: string): void;
  stop(): Promise<void>;
}

/** A committed consumer offset and the metadata string committed with it. */
export interface CommittedOffset extends PartitionOffset {
  readonly metadata: string | null;
}

export interface TransactionContent {
  readonly messages: readonly (OutgoingMessage & { readonly topic: string })[];
  /** Consumer offsets committed atomically with the messages (read-process-write). */
  readonly offsets: { readonly groupId: string; readonly partitions: readonly (PartitionOffset & { readonly metadata: string })[] };
}

/**
 * A transactional producer bound to one transactional id. Creating it fences any earlier
 * producer with the same id (and completes that producer's open transaction first).
 */
export interface TransactionalProducer {
  /**
   * Commits the messages and offsets in one transaction. Throws `FencedError` when a newer
   * producer with the same id exists (or the broker expired this one's transaction); any other
   * error leaves the outcome unknown (the transaction may even have committed) and the producer
   * unusable: close it, and let a new producer (which completes or aborts what is open) and the
   * committed offsets say where to continue.
   */
  commit(content: TransactionContent): Promise<void>;
  close(): Promise<void>;
}

/** A topic Sluice writes to, and what it must accept. */
export interface TopicSpec {
  readonly topic: string;
  /** Partitions when the topic is created (an existing topic keeps its own). */
  readonly partitions: number;
  /**
   * The topic's `max.message.bytes` is at least this: set when it is created, raised (other
   * settings kept) when an existing topic's is lower; a higher one is left alone.
   */
  readonly minMaxMessageBytes?: number;
}

export interface KafkaClient {
  /** Creates the topics that do not exist; throws KafkaUnavailableError when the cluster cannot be reached. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  /** First and next-to-be-written offsets of every partition of each topic. */
  partitionEnds(topics: readonly string[]): Promise<PartitionEnds[]>;
  /** The group's committed offsets (−1 where none), with their metadata. */
  committedOffsets(groupId: string, topics: readonly string[]): Promise<CommittedOffset[]>;
  /** Partition count of a topic; throws KafkaUnavailableError when the cluster cannot be reached. */
  partitionCount(topic: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Offsets by time, for `sluice replay` (a separate interface, so the runtime's KafkaClient and its
 * test fakes stay as they are).
 */
export interface OffsetsByTime {
  /** Per partition of `topic`, the first offset whose record timestamp is at or after `timestampMs`; the partition's end where none is. */
  offsetsForTime(topic: string, timestampMs: number): Promise<PartitionOffset[]>;
  /** Deletes an (empty) consumer group, such as a replay's throwaway one. */
  deleteGroup(groupId: string): Promise<void>;
}

/** A newer producer with the same transactional id exists: this one may never commit again. */
export class FencedError extends Error {
  constructor(readonly transactionalId: string, options?: { cause?: unknown }) {
    super(`producer ${transactionalId} is fenced by a newer producer with the same transactional id`, options);
    this.name = 'FencedError';
  }
}

/**
 * The cluster could not be reached, or answered with an error that may pass (a broker starting or
 * down, a leader or controller moving): the same call may succeed later.
 */
export class KafkaUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaUnavailableError';
  }
}
