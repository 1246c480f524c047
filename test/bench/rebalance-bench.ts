/**
 * How soon a member that joins a consumer group owns partitions while the group's one member is
 * busy: the scale-out of a second instance. The busy member learns of the rebalance only from a
 * heartbeat's answer, so its heartbeat interval (heartbeatIntervalMs) sets most of the wait.
 * Sluice's own consumer (RestartingConsumer) on the test stack's broker: a topic of 6 partitions
 * with 300k records, a first member spending 20 ms on each batch, a second one started 2 s later.
 *
 *   node --import tsx test/bench/rebalance-bench.ts [--rounds 4]
 *
 * Measured: 3.7-3.9 s with a heartbeat every 5 s (the session timeout / 6, before), 0.7-1.1 s
 * with one every second.
 */
import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import type { ConsumeOptions } from '../../src/sources/kafka/client.ts';
import { RestartingConsumer } from '../../src/sources/kafka/kafkajs-consumer.ts';
import { startStack } from '../stack/index.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' } } });
const TOPIC = 'rebalance-bench';
const SESSION_TIMEOUT_MS = 30_000; // the pipeline's default session_timeout

const runDir = mkdtempSync(join(tmpdir(), 'sluice-rebalance-bench-'));
const stack = await startStack({ runDir, tenants: [], redis: false });
const log = pino({ level: 'silent' });
try {
  const kafka = new Kafka({ clientId: 'rebalance-bench', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  for (let batch = 0; batch < 60; batch++) {
    await producer.send({ topic: TOPIC, messages: Array.from({ length: 5_000 }, (_, i) => ({ key: String(i), value: 'x'.repeat(200) })) });
  }
  await producer.disconnect();

  const member = (groupId: string, onAssigned: ConsumeOptions['onAssigned'], batchMs: number) =>
    new RestartingConsumer(
      kafka,
      {
        groupId,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        topics: [TOPIC],
        fromBeginning: true,
        onAssigned,
        onBatch: async () => {
          for (const end = Date.now() + batchMs; Date.now() < end; ); // a stage's work on the batch
          await new Promise((resolve) => setImmediate(resolve));
        },
      },
      log,
    );

  for (let round = 0; round < Number(values.rounds); round++) {
    const groupId = `rebalance-bench-${round}`;
    let firstOwns = false;
    const first = member(groupId, (partitions) => (firstOwns ||= partitions.length > 0), 20);
    await first.start();
    while (!firstOwns) await sleep(20);
    await sleep(2_000);
    const joinedAt = Date.now();
    let ownedAt = 0;
    const second = member(groupId, (partitions) => (ownedAt ||= partitions.length > 0 ? Date.now() : 0), 0);
    await second.start();
    while (!ownedAt && Date.now() - joinedAt < 60_000) await sleep(20);
    process.stdout.write(`round ${round}: the second member owned partitions ${ownedAt ? `${((ownedAt - joinedAt) / 1000).toFixed(2)} s` : 'not within 60 s'} after it started\n`);
    await second.stop();
    await first.stop();
  }
} finally {
  await stack.stop();
  rmSync(runDir, { recursive: true, force: true });
}
