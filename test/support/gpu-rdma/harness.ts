import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_HEADERS } from '../../../src/runtime/dead-letter.ts';
import { querySamples } from '../../stack/prometheus-query.ts';

/** Kafka and Prometheus plumbing for the gpu-rdma pipeline test. */

/**
 * Every stored sample of the series matching `selector` in (atSec − rangeSec, atSec], with its
 * own timestamp (an instant query of a range selector: no step alignment, no lookback), as
 * series id → [timestamp ms, value][].
 */
export async function rawSeries(
  baseUrl: string,
  selector: string,
  rangeSec: number,
  atSec: number,
  idOf: (metric: Record<string, string>) => string,
): Promise<Map<string, [number, number][]>> {
  const series = await querySamples(baseUrl, selector, rangeSec, atSec);
  return new Map(series.map((s) => [idOf(s.metric), s.samples]));
}

export interface DeadLetter {
  key: string;
  value: Buffer | null;
  reason: string;
  detail: string;
  topic: string;
  partition: string;
  offset: string;
}

/** Reads the dead-letter topic from the start until `count` records arrived (or 30 s passed), then 1 s more. */
export async function readDeadLetters(kafka: Kafka, topic: string, count: number): Promise<DeadLetter[]> {
  const consumer = kafka.consumer({ groupId: `gpu-rdma-dlq-reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: DeadLetter[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const header = (name: string) => message.headers?.[name]?.toString() ?? '';
      seen.push({
        key: message.key?.toString() ?? '',
        value: message.value,
        reason: header(DEAD_LETTER_HEADERS.reason),
        detail: header(DEAD_LETTER_HEADERS.detail),
        topic: header(DEAD_LETTER_HEADERS.topic),
        partition: header(DEAD_LETTER_HEADERS.partition),
        offset: header(DEAD_LETTER_HEADERS.offset),
      });
    },
  });
  try {
    await eventually(async () => seen.length, (n) => n >= count, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // anything beyond the expected count would be a defect
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** Polls `read` until `done` holds or `timeoutMs` pass; returns the last value either way, so assertions show the difference. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
