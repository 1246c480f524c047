import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_HEADERS } from '../../../src/runtime/dead-letter.ts';

/** Kafka and Prometheus plumbing for the gpu-rdma pipeline test. */

interface PromResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

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
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/query`;
  const params = new URLSearchParams({ query: `${selector}[${Math.max(1, Math.ceil(rangeSec))}s]`, time: String(atSec) });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: PromResponse;
  try {
    body = JSON.parse(text) as PromResponse;
  } catch {
    throw new Error(`Prometheus query at ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok || body.status !== 'success' || body.data?.resultType !== 'matrix') {
    throw new Error(`Prometheus query ${params.get('query')} at ${url}: HTTP ${res.status}: ${body.error ?? text.slice(0, 500)}`);
  }
  const out = new Map<string, [number, number][]>();
  for (const s of body.data.result as { metric: Record<string, string>; values: [number, string][] }[]) {
    out.set(
      idOf(s.metric),
      s.values.map(([t, v]) => [Math.round(t * 1000), v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v)]),
    );
  }
  return out;
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
