import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningPipelines } from '../../src/runtime/process.ts';
import { TEST_TENANTS } from '../stack/index.ts';
import { createTopic, produce, readDeadLetters, testKafka, type PartitionedMessage } from '../support/kafka-io.ts';
import { awaitTenantsMatch, metricValue, startShippedPipeline, summarize } from '../support/pipelines/harness.ts';
import { modelServingOracle, SERVING_RELATIVE_ACCURACY } from '../support/pipelines/model-serving-oracle.ts';
import { confluentFrame, generateServingLogs, servingLogType, type ModelServingLog } from '../support/pipelines/model-serving-traffic.ts';
import { listSeries } from '../support/pipelines/prometheus.ts';
import { seededRandom } from '../support/seeded-random.ts';

/**
 * pipelines/model-serving.yaml end to end on the real stack: Avro inference logs in the Confluent
 * wire format on a 3-partition topic, the shipped pipeline in process, each tenant's own
 * Prometheus. Every cumulative series is checked at every window end, every per-window gauge and
 * quantile at the end of every window with data, against a plain oracle.
 */
const stack = inject('stack');
const PIPELINE = 'model-serving';
const TOPIC = 'model.serving.logs';
const DLQ_TOPIC = 'sluice.model-serving.dlq';
const PARTITIONS = 3;
const WINDOW_MS = 15_000;

const kafka = testKafka(stack.brokers, 'model-serving-test');
const avroType = servingLogType();

// Two minutes of event time ending about a minute ago: every window is final by wall clock.
const start = Math.floor((Date.now() - 180_000) / WINDOW_MS) * WINDOW_MS + 1_234;
const good: ModelServingLog[] = generateServingLogs({ seed: 11, tenants: TEST_TENANTS, startMs: start, spanMs: 120_000, count: 6_000 });
const oracle = modelServingOracle(good);
const lastWindowEnd = oracle.lastWindowEnd;

/** Undecodable messages, each built from a real record at its place in the stream; all `malformed`. */
const bad: { key: string; partition: number; build: (body: Buffer) => Buffer }[] = [
  { key: 'bad-magic-byte', partition: 0, build: (body) => Buffer.concat([Buffer.from([0x01, 0, 0, 0, 1]), body]) },
  { key: 'bad-unknown-schema-id', partition: 1, build: (body) => confluentFrame(7, body) },
  { key: 'bad-truncated-body', partition: 2, build: (body) => confluentFrame(1, body).subarray(0, 5 + Math.floor(body.length / 2)) },
  { key: 'bad-short-header', partition: 0, build: () => Buffer.from([0x00, 0x00, 0x01]) },
];
const badBytes = new Map<string, Buffer>();
const badOffsets = new Map<string, number>();

let running: RunningPipelines | undefined;

beforeAll(async () => {
  await createTopic(kafka, TOPIC, PARTITIONS);
  await produce(kafka, TOPIC, partitionedMessages());
  running = await startShippedPipeline(stack, new URL('../../pipelines/model-serving.yaml', import.meta.url));
});

afterAll(async () => {
  await running?.stop();
});

describe('model-serving logs (Avro, Confluent framing) → per-tenant Prometheus', () => {
  it('delivers every counter, histogram, per-window gauge and quantile of each tenant exactly, at every window end', async () => {
    const expected = new Map(TEST_TENANTS.map((t) => [t, oracle.expected(t, lastWindowEnd)]));
    // Sanity of the generated traffic: every tenant has every kind of series.
    for (const t of TEST_TENANTS) {
      expect(expected.get(t)!.cumulative.size).toBeGreaterThan(100);
      expect(expected.get(t)!.gauges.size).toBeGreaterThan(10);
      expect(expected.get(t)!.quantiles.size).toBeGreaterThan(5);
    }
    const { problems } = await awaitTenantsMatch(stack, '{__name__=~"model_serving_.+"}', start, lastWindowEnd, expected, {
      relativeAccuracy: SERVING_RELATIVE_ACCURACY,
      timeoutMs: 40_000,
    });
    for (const tenant of TEST_TENANTS) expect(summarize(problems.get(tenant)!), `${tenant}'s Prometheus vs the oracle`).toEqual([]);
  });

  it("keeps each tenant's series in its own Prometheus", async () => {
    for (const tenant of TEST_TENANTS) {
      const series = await listSeries(stack.prometheus[tenant]!.url, '{__name__=~"model_serving_.+"}', start / 1000, lastWindowEnd / 1000 + 600);
      expect(series.length).toBeGreaterThan(0);
      const foreign = series.filter((s) => TEST_TENANTS.some((other) => other !== tenant && Object.values(s).some((v) => v.includes(other))));
      expect(foreign, `series of another tenant in ${tenant}'s Prometheus`).toEqual([]);
      expect(series.some((s) => s.model === `qwen2.5-7b-ft-${tenant}`)).toBe(true);
    }
  });

  it('sends every undecodable message to the dead-letter topic as malformed, with its original bytes and origin', async () => {
    const dead = await readDeadLetters(kafka, DLQ_TOPIC, bad.length);
    expect(dead.map((d) => d.key).sort()).toEqual(bad.map((b) => b.key).sort());
    for (const d of dead) {
      const b = bad.find((x) => x.key === d.key)!;
      expect(d.reason, d.key).toBe('malformed');
      expect(d.pipeline, d.key).toBe(PIPELINE);
      expect(d.topic, d.key).toBe(TOPIC);
      expect(d.partition, d.key).toBe(String(b.partition));
      expect(d.offset, d.key).toBe(String(badOffsets.get(d.key)));
      expect(d.detail, d.key).toMatch(/\S/);
      expect(d.value, d.key).toEqual(badBytes.get(d.key));
    }
  });

  it('counts records in and dead letters on /metrics', async () => {
    const body = await (await fetch(`${running!.telemetryUrl}/metrics`)).text();
    expect(metricValue(body, 'sluice_records_in_total', { pipeline: PIPELINE, topic: TOPIC })).toBe(good.length + bad.length);
    expect(metricValue(body, 'sluice_dead_letter_records_total', { pipeline: PIPELINE, reason: 'malformed' })).toBe(bad.length);
    expect(body).not.toMatch(/sluice_dead_letter_records_total\{pipeline="model-serving",reason="(?!malformed)/);
  });
});

/**
 * Good records round-robin over the partitions, each partition in event-time order shuffled
 * within 3 s (inside max_out_of_orderness 5 s, so none is late); the bad ones spliced in.
 */
function partitionedMessages(): PartitionedMessage[][] {
  const random = seededRandom(1234);
  const perPartition: (PartitionedMessage & { sortKey: number; body: Buffer })[][] = Array.from({ length: PARTITIONS }, () => []);
  good.forEach((record, i) => {
    const partition = i % PARTITIONS;
    const body = avroType.toBuffer(record);
    perPartition[partition]!.push({ partition, key: record.request_id, value: confluentFrame(1, body), body, sortKey: record.timestamp + random() * 3_000 });
  });
  for (const list of perPartition) list.sort((a, b) => a.sortKey - b.sortKey);
  bad.forEach((b, i) => {
    const list = perPartition[b.partition]!;
    const at = Math.floor(((i + 1) / (bad.length + 1)) * list.length);
    const value = b.build(list[at]!.body);
    badBytes.set(b.key, value);
    list.splice(at, 0, { partition: b.partition, key: b.key, value, body: value, sortKey: 0 });
  });
  // The topic is new: offsets are list positions.
  for (const list of perPartition) {
    list.forEach((message, offset) => {
      if (badBytes.has(String(message.key))) badOffsets.set(String(message.key), offset);
    });
  }
  return perPartition.map((list) => list.map(({ sortKey: _s, body: _b, ...message }) => message));
}
