import '../../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Kafka } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ConsumeOptions, TopicPartition } from '../../../src/sources/kafka/client.ts';
import { chunksBySize } from '../../../src/sources/kafka/record-size.ts';
import { heartbeatIntervalMs, RestartingConsumer } from '../../../src/sources/kafka/kafkajs-consumer.ts';
import { isFenced, isTransient } from '../../../src/sources/kafka/kafkajs-errors.ts';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;

/** A kafkajs consumer stand-in: records calls, lets the test emit GROUP_JOIN and CRASH. */
class FakeConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, (event: { payload: Record<string, unknown> }) => void>();
  readonly calls: string[] = [];
  constructor(private readonly failConnect: boolean | Error) {}
  on(event: string, listener: (event: { payload: Record<string, unknown> }) => void): void {
    this.listeners.set(event, listener);
  }
  async connect(): Promise<void> {
    this.calls.push('connect');
    if (this.failConnect instanceof Error) throw this.failConnect;
    if (this.failConnect) throw new Error('Connection error: connect ECONNREFUSED');
  }
  async subscribe(): Promise<void> {
    this.calls.push('subscribe');
  }
  async run(): Promise<void> {
    this.calls.push('run');
  }
  async disconnect(): Promise<void> {
    this.calls.push('disconnect');
  }
  seek(): void {
    this.calls.push('seek');
  }
  pause(): void {}
  resume(): void {}
  emit(event: string, payload: Record<string, unknown>): void {
    this.listeners.get(event)?.({ payload });
  }
}

function fakeKafka(failConnects: number, firstConnect?: Error): { kafka: Kafka; consumers: FakeConsumer[] } {
  const consumers: FakeConsumer[] = [];
  let failures = failConnects;
  const kafka = {
    consumer: () => {
      // the first consumer starts (or fails with `firstConnect`); then `failConnects` re-creations fail to connect
      const consumer = new FakeConsumer(consumers.length === 0 ? (firstConnect ?? false) : failures-- > 0);
      consumers.push(consumer);
      return consumer;
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('RestartingConsumer', () => {
  it('re-creates a consumer that crashed for good, retrying while the broker refuses, and hands over the new assignment', async () => {
    const { kafka, consumers } = fakeKafka(2);
    const assigned: TopicPartition[][] = [];
    const restarts: number[] = [];
    const options: ConsumeOptions = {
      groupId: 'g',
      topics: ['in'],
      fromBeginning: true,
      onAssigned: (partitions) => assigned.push([...partitions]),
      onBatch: async () => {},
      onRestart: (_error, delayMs) => restarts.push(delayMs),
    };
    const consumer = new RestartingConsumer(kafka, options, pino({ level: 'silent' }), () => 0);
    await consumer.start();
    expect(consumers).toHaveLength(1);
    expect(consumers[0]!.calls).toEqual(['connect', 'subscribe', 'run']);
    consumers[0]!.emit(EVENTS.GROUP_JOIN, { memberAssignment: { in: [0, 1] } });
    expect(assigned).toEqual([[{ topic: 'in', partition: 0 }, { topic: 'in', partition: 1 }]]);

    // kafkajs gives up: "Failed to find group coordinator", restart: false.
    consumers[0]!.emit(EVENTS.CRASH, { error: new Error('Failed to find group coordinator'), restart: false });
    await until(() => consumers.length === 4 && consumers[3]!.calls.includes('run'), 'a running replacement');
    expect(consumers[1]!.calls).toEqual(['connect', 'disconnect']); // broker still away
    expect(consumers[2]!.calls).toEqual(['connect', 'disconnect']);
    expect(restarts).toHaveLength(3);
    consumer.seek({ topic: 'in', partition: 0, offset: 7 });
    expect(consumers[3]!.calls).toContain('seek');

    consumers[3]!.emit(EVENTS.GROUP_JOIN, { memberAssignment: { in: [1] } });
    expect(assigned.at(-1)).toEqual([{ topic: 'in', partition: 1 }]);
    // An old consumer's late events change nothing.
    consumers[0]!.emit(EVENTS.GROUP_JOIN, { memberAssignment: { in: [0] } });
    expect(assigned).toHaveLength(2);

    await consumer.stop();
    expect(consumers[3]!.calls.at(-1)).toBe('disconnect');
    consumers[3]!.emit(EVENTS.CRASH, { error: new Error('late'), restart: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(consumers).toHaveLength(4); // stopped: no more re-creation
  });

  const options = (assigned: TopicPartition[][]): ConsumeOptions => ({
    groupId: 'g',
    topics: ['in'],
    fromBeginning: true,
    onAssigned: (partitions) => assigned.push([...partitions]),
    onBatch: async () => {},
  });

  it('takes a first connect that fails for a passing reason (the broker went away) as a crash: start returns, the consumer is re-created', async () => {
    const refused = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), { retryCount: 5, retryTime: 100 });
    const { kafka, consumers } = fakeKafka(1, refused);
    const assigned: TopicPartition[][] = [];
    const consumer = new RestartingConsumer(kafka, options(assigned), pino({ level: 'silent' }), () => 0);
    await consumer.start();
    await until(() => consumers.length === 3 && consumers[2]!.calls.includes('run'), 'a running replacement');
    expect(consumers.map((c) => c.calls[0])).toEqual(['connect', 'connect', 'connect']);
    consumers[2]!.emit(EVENTS.GROUP_JOIN, { memberAssignment: { in: [0] } });
    expect(assigned).toEqual([[{ topic: 'in', partition: 0 }]]);
    await consumer.stop();
  });

  it('lets a first connect refused for good (authorization) reach the caller', async () => {
    const denied = new KafkaJSProtocolError({ type: 'GROUP_AUTHORIZATION_FAILED', code: 30, retriable: false, message: 'Not authorized to access group' } as unknown as Error);
    const { kafka, consumers } = fakeKafka(0, denied);
    const consumer = new RestartingConsumer(kafka, options([]), pino({ level: 'silent' }), () => 0);
    await expect(consumer.start()).rejects.toBe(denied);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(consumers).toHaveLength(1);
  });
});

describe('heartbeatIntervalMs', () => {
  it('heartbeats every second with the default 30 s session (a busy member learns of a rebalance that soon), never above a third of the session', () => {
    expect([30_000, 6_000, 1_500, 200].map(heartbeatIntervalMs)).toEqual([1_000, 1_000, 500, 100]);
  });

  it('is what the consumer gives kafkajs with the session timeout', async () => {
    const configs: Record<string, unknown>[] = [];
    const kafka = {
      consumer: (config: Record<string, unknown>) => {
        configs.push(config);
        return new FakeConsumer(false);
      },
    } as unknown as Kafka;
    const consumer = new RestartingConsumer(kafka, { groupId: 'g', sessionTimeoutMs: 30_000, topics: ['in'], fromBeginning: true, onAssigned: () => {}, onBatch: async () => {} }, pino({ level: 'silent' }));
    await consumer.start();
    expect(configs[0]).toMatchObject({ sessionTimeout: 30_000, heartbeatInterval: 1_000 });
    await consumer.stop();
  });
});

describe('isTransient', () => {
  it('finds a retriable error inside the wrappers kafkajs gives up with, and nothing in a refusal', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
    expect(isTransient(refused)).toBe(true);
    expect(isTransient(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 100 }))).toBe(true);
    const unknownTopic = new KafkaJSProtocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'unknown' } as unknown as Error);
    expect(isTransient(unknownTopic)).toBe(true);
    const denied = new KafkaJSProtocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'denied' } as unknown as Error);
    expect(isTransient(denied)).toBe(false);
    expect(isTransient(new KafkaJSNumberOfRetriesExceeded(denied, { retryCount: 0, retryTime: 0 }))).toBe(false);
    expect(isTransient(new Error('topic x must accept messages of 2000000 bytes', { cause: denied }))).toBe(false);
    expect(isTransient(new Error('plain'))).toBe(false);
  });
});

describe('chunksBySize', () => {
  const message = (bytes: number) => ({ value: Buffer.alloc(bytes) });

  it('splits in order so no request exceeds the bound, and sends an oversized message alone', () => {
    const messages = [message(300), message(300), message(300), message(2_000), message(10)];
    const chunks = chunksBySize(messages, 700);
    expect(chunks.map((c) => c.map((m) => m.value.length))).toEqual([[300, 300], [300], [2_000], [10]]);
    expect(chunks.flat()).toEqual(messages);
  });
});

describe('isFenced', () => {
  it('finds the fencing error inside the wrappers kafkajs puts around protocol errors', () => {
    const epoch = new KafkaJSProtocolError({ type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false, message: 'old epoch' } as unknown as Error);
    expect(isFenced(epoch)).toBe(true);
    expect(isFenced(new KafkaJSNumberOfRetriesExceeded(epoch, { retryCount: 5, retryTime: 100 }))).toBe(true);
    expect(isFenced(new KafkaJSNonRetriableError('Connection error: connect ECONNREFUSED'))).toBe(false);
    expect(isFenced(new KafkaJSProtocolError({ type: 'CONCURRENT_TRANSACTIONS', code: 51, retriable: true, message: 'concurrent' } as unknown as Error))).toBe(false);
    expect(isFenced(new Error('Cannot call "beginTransaction" in state "COMMITTING"'))).toBe(false);
  });
});
