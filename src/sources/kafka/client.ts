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
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Record<string, Buffer | string>;
}

export interface ConsumeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  /** Called with the full set of partitions this member owns after every rebalance. */
  readonly onAssigned: (partitions: readonly TopicPartition[]) => void;
  /** Processes one fetched batch; offsets are committed only through `Consumer.commit`. */
  readonly onBatch: (batch: SourceBatch) => Promise<void>;
}

export interface Consumer {
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  stop(): Promise<void>;
}

export interface Producer {
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaClient {
  ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  producer(): Promise<Producer>;
  /** First and next-to-be-written offsets of every partition of each topic. */
  partitionEnds(topics: readonly string[]): Promise<PartitionEnds[]>;
  /** The group's committed offsets (−1 where none). */
  committedOffsets(groupId: string, topics: readonly string[]): Promise<PartitionOffset[]>;
  close(): Promise<void>;
}
