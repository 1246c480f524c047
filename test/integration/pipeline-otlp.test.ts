import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTopic, produce, testKafka } from '../support/kafka-io.ts';
import { startPrometheus3, type Prometheus3Handle } from '../support/receivers/prometheus3.ts';
import { eventually, query } from '../support/receivers/query.ts';
import { SluiceProcess } from '../support/sluice-process.ts';

/**
 * An `otlp` tenant end to end: `sluice run` reads JSON records from Kafka, stage 2 emits metric
 * points, the sink registry routes the tenant's points to the OTLP sink, and a Prometheus 3.x OTLP
 * receiver stores a counter and a classic histogram exactly (names as its OTLP translation gives
 * them: the unit `s` becomes `_seconds`).
 */

const PIPELINE_FILE = fileURLToPath(new URL('../fixtures/pipelines/otlp-tenant.yaml', import.meta.url));
const WINDOW_MS = 10_000;
const PER_WINDOW = 24;
const BOUNDS = [0.1, 0.5, 1];

const stack = inject('stack');
const pipeline = `ot-${randomBytes(3).toString('hex')}`;
const topic = `${pipeline}.in`;
const dir = join(stack.runDir, 'pipeline-otlp', pipeline);
// Two minutes back, aligned: windows 0 and 1 are complete in the past.
const base = Math.floor((Date.now() - 120_000) / WINDOW_MS) * WINDOW_MS;

/** Record i of window k: models alternate, latencies spread over every bucket (+Inf included). */
function record(k: number, i: number): { ts: number; tenant: string; model: string; ms: number } {
  return { ts: base + k * WINDOW_MS + i * 100, tenant: 'acme', model: `m${i % 2}`, ms: ((i * 97 + k * 13) % 1500) + 0.5 };
}

let kafka: Kafka;
let receiver: Prometheus3Handle;
let sluice: SluiceProcess | undefined;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  receiver = await startPrometheus3(join(dir, 'prometheus3'));
  kafka = testKafka(stack.brokers, `pipeline-otlp-${pipeline}`);
  await createTopic(kafka, topic, 1);
}, 120_000);

afterAll(async () => {
  await sluice?.kill();
  await receiver?.stop();
});

describe('an otlp tenant in a running pipeline', () => {
  it('delivers a counter and a histogram to a Prometheus 3.x OTLP receiver exactly', async () => {
    sluice = SluiceProcess.spawn(
      PIPELINE_FILE,
      {
        OT_PIPELINE: pipeline,
        OT_TOPIC: topic,
        OT_ACME_OTLP: receiver.otlpEndpoint,
        SLUICE_KAFKA_BROKERS: stack.brokers.join(','),
        SLUICE_REDIS_URL: stack.redisUrl,
      },
      join(dir, 'sluice.log'),
    );
    await sluice.ready(120_000);

    const records = [0, 1].flatMap((k) => Array.from({ length: PER_WINDOW }, (_, i) => record(k, i)));
    // A later record moves the watermark past windows 0 and 1, so both fire.
    const tick = { ts: base + 4 * WINDOW_MS, tenant: 'acme', model: 'tick', ms: 1 };
    await produce(kafka, topic, [[...records, tick].map((value, i) => ({ key: String(i), value: JSON.stringify(value) }))]);

    for (const k of [0, 1]) {
      const upTo = records.filter((r) => r.ts < base + (k + 1) * WINDOW_MS);
      const at = (base + (k + 1) * WINDOW_MS) / 1000;
      const expected: Record<string, number> = {};
      for (const model of ['m0', 'm1']) {
        const ms = upTo.filter((r) => r.model === model).map((r) => r.ms / 1000);
        expected[`ot_requests_total{model=${model}}`] = ms.length;
        for (const le of BOUNDS) expected[`ot_latency_seconds_bucket{le=${le},model=${model}}`] = ms.filter((s) => s <= le).length;
        expected[`ot_latency_seconds_bucket{le=+Inf,model=${model}}`] = ms.length;
        expected[`ot_latency_seconds_count{model=${model}}`] = ms.length;
        expected[`ot_latency_seconds_sum{model=${model}}`] = ms.reduce((sum, s) => sum + s, 0);
      }
      const stored = await eventually(
        async () => {
          const samples = await query(receiver.url, '{__name__=~"ot_.+", model=~"m[01]"}', at);
          return Object.fromEntries(samples.map((s) => [`${s.metric.__name__}{${['le', 'model'].filter((l) => s.metric[l] !== undefined).map((l) => `${l}=${s.metric[l]}`).join(',')}}`, s.value]));
        },
        (series) => Object.keys(series).length >= Object.keys(expected).length && series[`ot_requests_total{model=m0}`] === expected[`ot_requests_total{model=m0}`],
        90_000,
      );
      const sums = Object.keys(expected).filter((key) => key.startsWith('ot_latency_seconds_sum'));
      for (const key of sums) {
        // Sums are float additions in another order than the test's: equal to the last bits' rounding.
        expect(stored[key]).toBeCloseTo(expected[key]!, 9);
        delete stored[key];
        delete expected[key];
      }
      expect(stored).toEqual(expected);
    }
  }, 240_000);
});
