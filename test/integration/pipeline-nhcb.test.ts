import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTopic, eventually, produce, testKafka } from '../support/kafka-io.ts';
import { SluiceProcess } from '../support/sluice-process.ts';
import { startPrometheus3 } from '../stack/index.ts';
import type { PrometheusHandle } from '../stack/index.ts';
import { queryHistograms, queryInstant } from '../stack/prometheus-query.ts';
import type { StoredHistogram } from '../stack/prometheus-query.ts';

/**
 * `histograms: native_custom_buckets` end to end: `sluice run` reads JSON records from Kafka, stage 2
 * emits histogram points, and the remote-write 2.0 tenant's Prometheus 3.x stores each as a native
 * histogram with custom buckets: every window's count, sum and per-bucket counts equal to what the
 * input says (computed here, offline).
 */

const PIPELINE_FILE = fileURLToPath(new URL('../fixtures/pipelines/nhcb-tenant.yaml', import.meta.url));
const WINDOW_MS = 10_000;
const PER_WINDOW = 30;
const BOUNDS = [0.1, 0.5, 1];

const stack = inject('stack');
const pipeline = `nh-${randomBytes(3).toString('hex')}`;
const topic = `${pipeline}.in`;
const dir = join(stack.runDir, 'pipeline-nhcb', pipeline);
// Two minutes back, aligned: windows 0 and 1 are complete in the past.
const base = Math.floor((Date.now() - 120_000) / WINDOW_MS) * WINDOW_MS;

/** Record i of window k: two models, latencies over every bucket (+Inf included); m1 has none in (0.1 s, 0.5 s], an empty bucket. */
function record(k: number, i: number): { ts: number; tenant: string; model: string; ms: number } {
  const model = `m${i % 2}`;
  const ms = ((i * 89 + k * 31) % 1600) + 0.25;
  return { ts: base + k * WINDOW_MS + i * 100, tenant: 'acme', model, ms: model === 'm1' && ms > 100 && ms <= 500 ? ms + 600 : ms };
}

/** The cumulative histogram of `seconds` as the query API shows it: count, sum, non-empty buckets. */
function offline(seconds: number[]): StoredHistogram {
  const counts = [...BOUNDS, Infinity].map((le, b) => seconds.filter((s) => s <= le && (b === 0 || s > BOUNDS[b - 1]!)).length);
  return {
    count: seconds.length,
    sum: seconds.reduce((a, s) => a + s, 0),
    buckets: counts.flatMap((c, b): [number, number, number][] => (c === 0 ? [] : [[b === 0 ? -Infinity : BOUNDS[b - 1]!, b < BOUNDS.length ? BOUNDS[b]! : Infinity, c]])),
  };
}

let kafka: Kafka;
let receiver: PrometheusHandle;
let sluice: SluiceProcess | undefined;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  receiver = await startPrometheus3();
  kafka = testKafka(stack.brokers, `pipeline-nhcb-${pipeline}`);
  await createTopic(kafka, topic, 1);
}, 15 * 60_000);

afterAll(async () => {
  await sluice?.kill();
  await receiver?.stop();
});

describe('a remote-write 2.0 tenant with histograms: native_custom_buckets in a running pipeline', () => {
  it('stores every window of the histogram as one native histogram per series, exactly', async () => {
    sluice = SluiceProcess.spawn(
      PIPELINE_FILE,
      { NH_PIPELINE: pipeline, NH_TOPIC: topic, NH_ACME_WRITE: receiver.remoteWriteUrl, SLUICE_KAFKA_BROKERS: stack.brokers.join(','), SLUICE_REDIS_URL: stack.redisUrl },
      join(dir, 'sluice.log'),
    );
    await sluice.ready(120_000);

    const records = [0, 1].flatMap((k) => Array.from({ length: PER_WINDOW }, (_, i) => record(k, i)));
    // A later record moves the watermark past windows 0 and 1, so both fire.
    const tick = { ts: base + 4 * WINDOW_MS, tenant: 'acme', model: 'tick', ms: 1 };
    await produce(kafka, topic, [[...records, tick].map((value, i) => ({ key: String(i), value: JSON.stringify(value) }))]);

    const expected = Object.fromEntries(
      ['m0', 'm1'].map((model) => [
        model,
        [0, 1].map((k) => offline(records.filter((r) => r.model === model && r.ts < base + (k + 1) * WINDOW_MS).map((r) => r.ms / 1000))),
      ]),
    );
    const end = (base + 2 * WINDOW_MS) / 1000;
    const stored = await eventually(
      () => queryHistograms(receiver.url, '{__name__="nh_latency_seconds", model=~"m[01]"}', 300, end),
      (series) => series.length === 2 && series.every((s) => s.histograms.length >= 2),
      90_000,
    );
    for (const series of stored) {
      // The same window may be sent again after it (cumulative series): the distinct values, in order.
      const values = series.histograms.map(([, h]) => h).filter((h, i, all) => i === 0 || JSON.stringify(h) !== JSON.stringify(all[i - 1]));
      const want = expected[series.metric.model!]!;
      // Sums are float additions in another order than the test's: equal to the last bits' rounding.
      values.forEach((h, w) => expect(h.sum).toBeCloseTo(want[w]!.sum, 9));
      expect(values.map(({ count, buckets }) => ({ count, buckets }))).toEqual(want.map(({ count, buckets }) => ({ count, buckets })));
    }
    // One series per histogram: no classic _bucket / _sum / _count series were written.
    expect(await queryInstant(receiver.url, 'count({__name__=~"nh_latency_seconds_(bucket|sum|count)"})', end)).toEqual([]);
    expect(await queryInstant(receiver.url, `histogram_count(nh_latency_seconds{model="m0"})`, end)).toEqual([{ metric: { model: 'm0' }, value: PER_WINDOW }]);
  }, 15 * 60_000);
});
