import { ConfigResourceTypes, ConfigSource, Kafka, logLevel, type Admin, type LogEntry, type Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import type {
  CommittedOffset,
  ConsumeOptions,
  Consumer,
  KafkaClient,
  PartitionEnds,
  SourceRecord,
  TopicPartition,
  TopicSpec,
  TransactionContent,
  TransactionalProducer,
} from './client.ts';
import { chunksBySize, RECORD_BATCH_OVERHEAD } from './record-size.ts';

export interface KafkajsClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
}

/** kafkajs behind Sluice's `KafkaClient`: consumer groups with manual commits, producers, admin. */
export class KafkajsClient implements KafkaClient {
  private readonly kafka: Kafka;
  private adminClient: Promise<Admin> | undefined;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(options: KafkajsClientOptions) {
    const logger = options.logger.child({ component: 'kafkajs' });
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => logKafkajs(logger, entry),
    });
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
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
    }
    for (const t of topics) {
      if (existing.has(t.topic) && t.minMaxMessageBytes !== undefined) await raiseMaxMessageBytes(admin, t.topic, t.minMaxMessageBytes);
    }
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      // Stage inputs may be written transactionally; never read aborted or open transactions.
      readUncommitted: false,
      allowAutoTopicCreation: false,
      ...(options.sessionTimeoutMs ? { sessionTimeout: options.sessionTimeoutMs, heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 6)) } : {}),
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      const partitions = Object.entries(assignment).flatMap(([topic, ids]) => ids.map((partition) => ({ topic, partition })));
      options.onAssigned(partitions);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }) => {
        const records: SourceRecord[] = new Array(batch.messages.length);
        for (let i = 0; i < batch.messages.length; i++) {
          const message = batch.messages[i]!;
          records[i] = {
            topic: batch.topic,
            partition: batch.partition,
            offset: Number(message.offset),
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
          };
        }
        await options.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          records,
          highWatermark: Number(batch.highWatermark),
        });
        await heartbeat();
      },
    });
    const stop = () => consumer.disconnect();
    this.closers.push(stop);
    const byTopic = (partitions: readonly TopicPartition[]) =>
      groupByTopic(partitions).map(([topic, list]) => ({ topic, partitions: list.map((p) => p.partition) }));
    return {
      pause: (partitions) => consumer.pause(byTopic(partitions)),
      resume: (partitions) => consumer.resume(byTopic(partitions)),
      seek: (p) => consumer.seek({ topic: p.topic, partition: p.partition, offset: String(p.offset) }),
      stop,
    };
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

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.admin();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]?.partitions.length ?? 0;
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
    // connect() initialises the producer id: this fences older producers with the same id.
    await producer.connect();
    const close = () => producer.disconnect();
    this.closers.push(close);
    return {
      commit: async (content: TransactionContent) => {
        const transaction = await producer.transaction();
        try {
          await sendInChunks(transaction, content.messages);
          await transaction.sendOffsets({
            consumerGroupId: content.offsets.groupId,
            topics: groupByTopic(content.offsets.partitions).map(([topic, partitions]) => ({
              topic,
              partitions: partitions.map((p) => ({ partition: p.partition, offset: String(p.offset), metadata: p.metadata })),
            })),
          });
          await transaction.commit();
        } catch (error) {
          await transaction.abort().catch(() => {});
          throw error;
        }
      },
      close,
    };
  }

  async close(): Promise<void> {
    const closers = this.closers.splice(0);
    if (this.adminClient) closers.push(async () => (await this.adminClient!).disconnect());
    this.adminClient = undefined;
    await Promise.allSettled(closers.map((close) => close()));
  }

  private admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.adminClient;
  }
}

const MAX_MESSAGE_BYTES = 'max.message.bytes';

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

function groupByTopic<T extends { topic: string }>(items: readonly T[]): [string, T[]][] {
  const topics = new Map<string, T[]>();
  for (const item of items) {
    const list = topics.get(item.topic);
    if (list) list.push(item);
    else topics.set(item.topic, [item]);
  }
  return [...topics];
}

function logKafkajs(logger: Logger, entry: LogEntry): void {
  const { message, ...rest } = entry.log;
  const fields = { namespace: entry.namespace, ...rest };
  if (entry.level <= logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN) logger.warn(fields, message);
  else logger.debug(fields, message);
}
