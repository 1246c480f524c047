import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { Kafka, logLevel, type Message, type RetryOptions } from 'kafkajs';
import { DEAD_LETTER_HEADERS } from '../../src/runtime/dead-letter.ts';

/** Kafka plumbing shared by the integration tests: a client, topics, an ordered producer, the dead-letter reader, a poller. */

export type PartitionedMessage = Message & { partition: number };

/** `retry`: kafkajs' retry policy, e.g. long enough for an idempotent producer to ride out a broker outage. */
export function testKafka(brokers: readonly string[], clientId: string, retry?: RetryOptions): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, ...(retry ? { retry } : {}) });
}

/** Creates a topic, with topic-level settings where given (e.g. `{ 'max.message.bytes': '8388608' }`). */
export async function createTopic(kafka: Kafka, topic: string, numPartitions: number, configs: Record<string, string> = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions, configEntries }] });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces each list's messages in order, one send at a time (idempotent, acks=all), `batchSize`
 * messages a send: lists of `PartitionedMessage` fill their partitions in order; messages without
 * a partition go where their key sends them.
 */
export async function produce(kafka: Kafka, topic: string, lists: readonly (readonly Message[])[], batchSize = 500): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const messages of lists) {
      for (let i = 0; i < messages.length; i += batchSize) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + batchSize) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A dead letter: the original key and bytes, and each `sluice.*` header of DEAD_LETTER_HEADERS by its field ('' when absent). */
export type DeadLetter = { key: string; value: Buffer | null } & Record<keyof typeof DEAD_LETTER_HEADERS, string>;

/**
 * Reads the dead-letter topic from the beginning until `count` records arrived or `timeoutMs`
 * passed, then `graceMs` more: anything beyond the expected count is a defect too.
 */
export async function readDeadLetters(
  kafka: Kafka,
  topic: string,
  count: number,
  { timeoutMs = 60_000, graceMs = 1_000 }: { timeoutMs?: number; graceMs?: number } = {},
): Promise<DeadLetter[]> {
  const consumer = kafka.consumer({ groupId: `dlq-reader-${topic}-${Date.now()}` });
  await consumer.connect();
  const seen: DeadLetter[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const header = (name: string) => message.headers?.[name]?.toString() ?? '';
        const headers = Object.fromEntries(Object.entries(DEAD_LETTER_HEADERS).map(([field, name]) => [field, header(name)]));
        seen.push({ key: message.key?.toString() ?? '', value: message.value, ...(headers as Record<keyof typeof DEAD_LETTER_HEADERS, string>) });
      },
    });
    await eventually(async () => seen.length, (n) => n >= count, timeoutMs);
    await sleep(graceMs);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** Polls `read` every `intervalMs` until `done` holds or `timeoutMs` pass; returns the last value either way, so assertions show the difference. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
