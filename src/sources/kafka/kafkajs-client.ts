import './kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import kafkajs, { Kafka, logLevel, type Admin, type LogEntry, type Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { Closers } from '../../core/closers.ts';
import {
  FencedError,
  KafkaUnavailableError,
  type CommittedOffset,
  type ConsumeOptions,
  type Consumer,
  type KafkaClient,
  type OffsetsByTime,
  type PartitionOffset,
  type PartitionEnds,
  type TopicSpec,
  type TransactionContent,
  type TransactionalProducer,
} from './client.ts';
import { groupByTopic } from './group-by-topic.ts';
import { RestartingConsumer } from './kafkajs-consumer.ts';
import { isFenced, isTransient } from './kafkajs-errors.ts';
import { installFastRecordDecoding } from './kafkajs-fast-records.ts';
import { installRequestQueueFix } from './kafkajs-request-queue.ts';
import { chunksBySize, RECORD_BATCH_OVERHEAD } from './record-size.ts';

// Node's ESM loader cannot see these two enums among kafkajs's CommonJS exports (Kafka and logLevel it can).
const { ConfigResourceTypes, ConfigSource } = kafkajs;

export interface KafkajsClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
}

/** kafkajs behind Sluice's `KafkaClient`: consumer groups with manual commits, producers, admin. */
export class KafkajsClient implements KafkaClient, OffsetsByTime {
  private readonly kafka: Kafka;
  private readonly log: Logger;
  private adminClient: { admin: Admin; connected: Promise<Admin> } | undefined;
  private readonly closers: Closers;

  constructor(options: KafkajsClientOptions) {
    const logger = options.logger.child({ component: 'kafkajs' });
    this.log = logger;
    this.closers = new Closers((error) => logger.warn({ err: error }, 'a Kafka client did not disconnect cleanly'));
    // Before this process's first fetch; a no-op (kafkajs's own decoder stays) after one.
    if (!installFastRecordDecoding()) logger.debug('kafkajs fetched before this client was built: its own record-batch decoder stays in use');
    // No timer loop on connections with nothing waiting (kafkajs-request-queue.ts); any time before or after connecting.
    installRequestQueueFix();
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => logKafkajs(logger, entry),
    });
  }

  ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    return unavailableAsSuch('Kafka could not be reached to create the topics', () => this.createMissingTopics(topics));
  }

  private async createMissingTopics(topics: readonly TopicSpec[]): Promise<void> {
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          configEntries: t.minMaxMessageBytes === undefined ? [] : [{ name: MAX_MESSAGE_BYTES, value: String(t.minMaxMessageBytes) }],
        })),
      });
      await awaitLeaders(admin, missing.map((t) => t.topic));
    }
    for (const t of topics) {
      if (existing.has(t.topic) && t.minMaxMessageBytes !== undefined) await raiseMaxMessageBytes(admin, t.topic, t.minMaxMessageBytes);
    }
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    const consumer = new RestartingConsumer(this.kafka, options, this.log);
    await consumer.start();
    this.closers.push(() => consumer.stop());
    return consumer;
  }

  async partitionEnds(topics: readonly string[]): Promise<PartitionEnds[]> {
    const admin = await this.admin();
    const out: PartitionEnds[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        out.push({ topic, partition: p.partition, low: Number(p.low), high: Number(p.high) });
      }
    }
    return out;
  }

  async committedOffsets(groupId: string, topics: readonly string[]): Promise<CommittedOffset[]> {
    const admin = await this.admin();
    const result = await admin.fetchOffsets({ groupId, topics: [...topics] });
    return result.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset), metadata: p.metadata ?? null })),
    );
  }

  async offsetsForTime(topic: string, timestampMs: number): Promise<PartitionOffset[]> {
    const admin = await this.admin();
    // kafkajs already answers the partition's end where no record is that recent (ListOffsets gives -1).
    return (await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs)).map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) }));
  }

  async deleteGroup(groupId: string): Promise<void> {
    const admin = await this.admin();
    await admin.deleteGroups([groupId]);
  }

  partitionCount(topic: string): Promise<number> {
    return unavailableAsSuch(`Kafka could not be reached to read topic ${topic}`, async () => {
      const admin = await this.admin();
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]?.partitions.length ?? 0;
    });
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Long enough for a flush; short enough that a dead instance's open transaction is aborted soon.
      transactionTimeout: 30_000,
    });
    await producer.connect();
    // Fence NOW, before the caller reads committed offsets. kafkajs's connect() only gets an
    // idempotent producer id; the transactional id's InitProducerId (which fences older producers
    // with this id, and makes the broker finish or abort their open transaction first) waits for
    // the first transaction(). Until then an older owner could still commit, after the caller read
    // the offsets it starts from: the records of that commit were counted twice (the fencing and
    // crash tests over-counted a source partition's first transaction). An abort with nothing
    // sent ends the transaction locally, without a request.
    try {
      await (await producer.transaction()).abort();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw isFenced(error) ? new FencedError(transactionalId, { cause: error }) : error;
    }
    const close = async () => {
      // Producers are re-created after failures: forget the closed ones.
      this.closers.remove(close);
      await producer.disconnect();
    };
    this.closers.push(close);
    return {
      commit: async (content: TransactionContent) => {
        const transaction = await producer.transaction();
        try {
          await sendInChunks(transaction, content.messages);
          // A writer with no input offsets of its own (stage 2's anomaly events) commits messages only.
          if (content.offsets.partitions.length > 0) await transaction.sendOffsets({
            consumerGroupId: content.offsets.groupId,
            topics: groupByTopic(content.offsets.partitions).map(([topic, partitions]) => ({
              topic,
              partitions: partitions.map((p) => ({ partition: p.partition, offset: String(p.offset), metadata: p.metadata })),
            })),
          });
          await transaction.commit();
        } catch (error) {
          await transaction.abort().catch(() => {});
          throw isFenced(error) ? new FencedError(transactionalId, { cause: error }) : error;
        }
      },
      close,
    };
  }

  /** Disconnects every consumer, producer and the admin client; a failed disconnect is logged. */
  async close(): Promise<void> {
    const admin = this.adminClient?.admin;
    this.adminClient = undefined;
    if (admin) this.closers.push(() => admin.disconnect());
    await this.closers.closeAll();
  }

  private admin(): Promise<Admin> {
    if (this.closers.isClosed) return Promise.reject(new Error('the Kafka client is closed'));
    if (!this.adminClient) {
      const admin = this.kafka.admin();
      const entry = { admin, connected: admin.connect().then(() => admin) };
      this.adminClient = entry;
      // A failed connect (broker down) is not cached: the next call connects again.
      entry.connected.catch(() => {
        if (this.adminClient === entry) this.adminClient = undefined;
        void admin.disconnect().catch(() => {});
      });
    }
    return this.adminClient.connected;
  }
}

/** `work`, with a failure that may pass (isTransient) thrown as KafkaUnavailableError. */
async function unavailableAsSuch<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isTransient(error) ? new KafkaUnavailableError(`${what}: ${(error as Error).message}`, { cause: error }) : error;
  }
}

const MAX_MESSAGE_BYTES = 'max.message.bytes';

/** How long ensureTopics waits for the topics it found missing to have leaders. */
const LEADERS_TIMEOUT_MS = 30_000;

/**
 * Waits until the broker's metadata has every one of `topics` with a leader for each partition.
 * kafkajs's createTopics waits so only when it created every topic itself: when another client
 * created one of them first (instances of a pipeline starting together, pipelines sharing a
 * dead-letter topic), it returns at once, and a metadata read right after could answer
 * UNKNOWN_TOPIC_OR_PARTITION for a topic this very call had created: the pipeline exited on start.
 */
async function awaitLeaders(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  for (;;) {
    let lastError: unknown;
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (found.length === topics.length && found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (!isTransient(error)) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`topics ${topics.join(', ')} had no leaders ${LEADERS_TIMEOUT_MS / 1000} s after they were created`, { cause: lastError });
    }
    await sleep(100);
  }
}

/**
 * Raises a topic's `max.message.bytes` to `min` if it is lower. AlterConfigs (the API kafkajs
 * has) replaces a topic's whole override set, so the current overrides are sent along.
 */
async function raiseMaxMessageBytes(admin: Admin, topic: string, min: number): Promise<void> {
  let current = Number.NaN;
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    const entries = described.resources[0]?.configEntries ?? [];
    current = Number(entries.find((e) => e.configName === MAX_MESSAGE_BYTES)?.configValue);
    if (current >= min) return;
    const overrides = entries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && e.configName !== MAX_MESSAGE_BYTES && typeof e.configValue === 'string' && !e.isSensitive);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [...overrides.map((e) => ({ name: e.configName, value: e.configValue })), { name: MAX_MESSAGE_BYTES, value: String(min) }],
        },
      ],
    });
  } catch (error) {
    throw new Error(
      `topic ${topic} must accept messages of ${min} bytes (max.message.bytes; now ${Number.isFinite(current) ? current : 'unknown'}) and raising it failed: ${(error as Error).message}. ` +
        `Raise it on the broker (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config ${MAX_MESSAGE_BYTES}=${min}) and start again.`,
      { cause: error },
    );
  }
}

/**
 * A producer sends each call's messages for a partition as one record batch, and a broker
 * refuses a batch over the topic's `max.message.bytes` (Kafka's default: 1 MiB). So a
 * transaction's messages go out in sends of at most this many bytes; a larger message goes
 * alone (its topic was made to take it, see ensureTopics).
 */
const SEND_CHUNK_BYTES = 1_000_000 - RECORD_BATCH_OVERHEAD;

async function sendInChunks(transaction: Transaction, messages: TransactionContent['messages']): Promise<void> {
  for (const chunk of chunksBySize(messages, SEND_CHUNK_BYTES)) {
    await transaction.sendBatch({
      acks: -1,
      topicMessages: groupByTopic(chunk).map(([topic, list]) => ({ topic, messages: list as never })),
    });
  }
}

function logKafkajs(logger: Logger, entry: LogEntry): void {
  const { message, ...rest } = entry.log;
  const fields = { namespace: entry.namespace, ...rest };
  if (entry.level <= logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN) logger.warn(fields, message);
  else logger.debug(fields, message);
}
