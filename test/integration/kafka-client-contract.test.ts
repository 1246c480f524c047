import { expect, inject, it } from 'vitest';
import { pino } from 'pino';
import { FencedError } from '../../src/sources/kafka/client.ts';
import { KafkajsClient } from '../../src/sources/kafka/kafkajs-client.ts';
import { createTopic, testKafka } from '../support/kafka-io.ts';

/**
 * What the stages rely on from Sluice's Kafka client, checked against the real broker.
 *
 * Fencing: creating a transactional producer fences the older one with the same id at once, so a
 * new owner reads committed offsets only after the old owner can no longer commit. kafkajs fences
 * at the first transaction, not at connect: an old owner's commit landed after the new owner had
 * read its starting offset, and those records were counted twice.
 */
const stack = inject('stack');

it('a new transactional producer fences the old one before it returns: the old one can no longer commit', async () => {
  const topic = `fencing-contract-${Date.now().toString(36)}`;
  const kafka = testKafka(stack.brokers, 'fencing-contract-test');
  await createTopic(kafka, topic, 1);
  const logger = pino({ level: 'silent' });
  const oldOwner = new KafkajsClient({ brokers: [...stack.brokers], clientId: 'old-owner', logger });
  const newOwner = new KafkajsClient({ brokers: [...stack.brokers], clientId: 'new-owner', logger });
  try {
    const transactionalId = `${topic}-task-0`;
    const old = await oldOwner.transactionalProducer(transactionalId);
    await old.commit({ messages: [{ topic, partition: 0, key: null, value: Buffer.from('before') }], offsets: { groupId: `${topic}-g`, partitions: [] } });
    await newOwner.transactionalProducer(transactionalId);
    // The old owner, unaware, tries to commit records and a source offset: it must be refused.
    const late = old.commit({
      messages: [{ topic, partition: 0, key: null, value: Buffer.from('late') }],
      offsets: { groupId: `${topic}-g`, partitions: [{ topic, partition: 0, offset: 42, metadata: '' }] },
    });
    await expect(late).rejects.toBeInstanceOf(FencedError);
    const committed = await newOwner.committedOffsets(`${topic}-g`, [topic]);
    expect(committed.find((c) => c.partition === 0)?.offset ?? -1).toBe(-1);
  } finally {
    await oldOwner.close();
    await newOwner.close();
  }
}, 120_000);

/**
 * What stage 2 meets after a crash: several transactional producers' records interleaved in one
 * partition, their transactions aborted, and a committed one among them; a read_committed consumer
 * that starts reading INSIDE the aborted transactions must see exactly the committed records.
 * kafkajs 2.2.4's own filter let records of all but one of the open aborted transactions through.
 */

it('a read_committed consumer starting inside several aborted transactions gets only committed records', async () => {
  const topic = `read-committed-${Date.now().toString(36)}`;
  const kafka = testKafka(stack.brokers, 'read-committed-test');
  await createTopic(kafka, topic, 1);
  const producers = await Promise.all(
    ['a', 'b', 'c', 'd', 'ok'].map(async (id) => {
      const producer = kafka.producer({ transactionalId: `${topic}-${id}`, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      return { id, producer, transaction: await producer.transaction() };
    }),
  );
  // Rounds of one record per producer: a@0 b@1 c@2 d@3 ok@4 a@5 ... so four aborted transactions open before offset 4.
  const sent = new Map<string, string[]>();
  for (let round = 0; round < 6; round++) {
    for (const { id, transaction } of producers) {
      const value = `${id}-${round}`;
      await transaction.send({ topic, messages: [{ partition: 0, value }] });
      sent.set(id, [...(sent.get(id) ?? []), value]);
    }
  }
  // Abort in an order other than their first offsets: the broker lists them as their markers land.
  for (const id of ['c', 'a', 'd', 'b']) await producers.find((p) => p.id === id)!.transaction.abort();
  await producers.find((p) => p.id === 'ok')!.transaction.commit();
  await Promise.all(producers.map(({ producer }) => producer.disconnect()));

  // Read through Sluice's own client, from offset 4 (inside all four aborted transactions) and from 0.
  for (const from of [4, 0, 7]) {
    const groupId = `${topic}-reader-${from}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: String(from) }] }); // the group starts there
    await admin.disconnect();
    const client = new KafkajsClient({ brokers: [...stack.brokers], clientId: `rc-${from}`, logger: pino({ level: 'silent' }) });
    const received: string[] = [];
    const consumer = await client.consume({
      groupId,
      topics: [topic],
      fromBeginning: true,
      onAssigned: () => {},
      onBatch: async (batch) => {
        for (const record of batch.records) received.push(record.value!.toString());
      },
    });
    const expected = sent.get('ok')!.filter((_, round) => round * 5 + 4 >= from);
    const deadline = Date.now() + 30_000;
    while (received.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_000)); // anything more would be an aborted record
    await consumer.stop();
    await client.close();
    expect(received, `reading from offset ${from}`).toEqual(expected);
  }
}, 120_000);

/**
 * Instances of a pipeline start together (a scale-out, a rollout), and pipelines share their
 * dead-letter topic: several clients ensure the same topics at once. Each must find every topic
 * ready when `ensureTopics` returns. kafkajs's createTopics waits for the leaders only when it
 * created every topic itself; the client that lost the race was told its partials topic was
 * unknown, and its pipeline exited on start (two bench pipelines started together).
 */
it('clients ensuring the same topics at once each find them all, with their partitions, when ensureTopics returns', async () => {
  const logger = pino({ level: 'silent' });
  const clients = [0, 1, 2, 3].map((i) => new KafkajsClient({ brokers: [...stack.brokers], clientId: `ensure-race-${i}`, logger }));
  try {
    for (let round = 0; round < 5; round++) {
      const prefix = `ensure-race-${Date.now().toString(36)}-${round}`;
      const shared = `${prefix}-dlq`;
      const counts = await Promise.all(
        clients.map(async (client, i) => {
          // Each client's own topic beside the shared ones, as each pipeline has its partials topic beside the dead-letter one.
          const own = `${prefix}-own-${i}`;
          await client.ensureTopics([
            { topic: shared, partitions: 1 },
            { topic: `${prefix}-partials`, partitions: 4 },
            { topic: own, partitions: 3 },
          ]);
          return [await client.partitionCount(shared), await client.partitionCount(`${prefix}-partials`), await client.partitionCount(own)];
        }),
      );
      expect(counts).toEqual(clients.map(() => [1, 4, 3]));
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}, 120_000);
