/**
 * Live synthetic gateway traffic for the demo (and the docker-compose `demo-producer`):
 * `rate` calls per second stamped with the current time, now and then a malformed line.
 *
 *   node --import tsx test/demo/producer.ts --brokers 127.0.0.1:9092 [--rate 200] [--duration 120s]
 */
import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { parseDuration } from '../../src/core/duration.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';

export const DEMO_TOPIC = 'bailian.gateway.logs';
export const DEMO_TENANTS = ['acme', 'globex', 'initech'] as const;

export interface DemoProducerOptions {
  readonly brokers: readonly string[];
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly signal?: AbortSignal;
}

/** Creates the topic if needed, then produces until the duration passes or the signal aborts. */
export async function runDemoProducer(options: DemoProducerOptions): Promise<{ produced: number; malformed: number }> {
  const kafka = new Kafka({ clientId: 'sluice-demo-producer', brokers: [...options.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(DEMO_TOPIC)) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: DEMO_TOPIC, numPartitions: 3 }] });
  }
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let produced = 0;
  let malformed = 0;
  const deadline = Date.now() + options.durationMs;
  let seed = 1;
  try {
    while (Date.now() < deadline && !options.signal?.aborted) {
      const tickStart = Date.now();
      // One tenth of a second of traffic, spread over the last 100 ms, so event times trail the clock a little.
      const count = Math.max(1, Math.round(options.ratePerSecond / 10));
      const batch = [...generateGatewayLogs({ seed: seed++, tenants: DEMO_TENANTS, startMs: tickStart - 100, spanMs: 100, count })];
      const messages = batch.map((record) => ({ key: record.request_id, value: JSON.stringify(record) }));
      if (seed % 50 === 0) {
        messages.push({ key: 'malformed', value: '{"request_id": "truncated' });
        malformed++;
      }
      await send(producer, messages);
      produced += messages.length;
      await sleep(Math.max(0, 100 - (Date.now() - tickStart)), options.signal);
    }
  } finally {
    await producer.disconnect();
  }
  return { produced, malformed };
}

async function send(producer: Producer, messages: { key: string; value: string }[]): Promise<void> {
  await producer.send({ topic: DEMO_TOPIC, acks: -1, messages });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string', default: process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:9092' },
      rate: { type: 'string', default: '200' },
      duration: { type: 'string', default: '24h' },
    },
  });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const result = await runDemoProducer({
    brokers: values.brokers.split(','),
    ratePerSecond: Number(values.rate),
    durationMs: parseDuration(values.duration) ?? 86_400_000,
    signal: controller.signal,
  });
  process.stdout.write(`produced ${result.produced} records (${result.malformed} malformed)\n`);
}
