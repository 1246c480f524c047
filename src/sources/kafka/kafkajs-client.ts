import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { Closers } from '../../core/closers.ts';
import {
  FencedError,
  type CommittedOffset,
  type ConsumeOptions,
  type Consumer,
  type KafkaClient,
  type PartitionEnds,
  type TransactionContent,
  type TransactionalProducer,
} from './client.ts';
import { chunkBySize } from './chunk-messages.ts';
import { groupByTopic } from './group-by-topic.ts';
import { RestartingConsumer } from './kafkajs-consumer.ts';
import { isFenced } from './kafkajs-errors.ts';

export interface KafkajsClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
}

/** kafkajs behind Sluice's `KafkaClient`: consumer groups with manual commits, producers, admin. */
export class KafkajsClient implements KafkaClient {
  private readonly kafka: Kafka;
  private readonly log: Logger;
  private adminClient: { admin: Admin; connected: Promise<Admin> } | undefined;
  private readonly closers: Closers;

  constructor(options: KafkajsClientOptions) {
    const logger = options.logger.child({ component: 'kafkajs' });
    this.log = logger;
    this.closers = new Closers((error) => logger.warn({ err: error }, 'a Kafka client did not disconnect cleanly'));
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => logKafkajs(logger, entry),
    });
  }

  async ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void> {
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
    });
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
          // Several requests in one transaction: no partition's record batch may outgrow the broker's limit.
          for (const chunk of chunkBySize(content.messages)) {
            await transaction.sendBatch({
              acks: -1,
              topicMessages: groupByTopic(chunk).map(([topic, messages]) => ({ topic, messages: messages as never })),
            });
          }
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

function logKafkajs(logger: Logger, entry: LogEntry): void {
  const { message, ...rest } = entry.log;
  const fields = { namespace: entry.namespace, ...rest };
  if (entry.level <= logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN) logger.warn(fields, message);
  else logger.debug(fields, message);
}
