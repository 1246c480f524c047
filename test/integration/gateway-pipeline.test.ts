import { Kafka, logLevel, type Message } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadPipelineFile } from '../../src/config/load.ts';
import { DEAD_LETTER_HEADERS } from '../../src/runtime/dead-letter.ts';
import { startPipelines, type RunningPipelines } from '../../src/runtime/process.ts';
import { queryInstant } from '../stack/prometheus-query.ts';
import { TEST_TENANTS } from '../stack/index.ts';
import { generateGatewayLogs, seededRandom, type GatewayCallLog } from '../support/gateway-traffic.ts';
import { gatewayOracle, isFloatSum } from '../support/gateway-oracle.ts';
import { seriesId } from '../support/series-id.ts';

/**
 * The walking skeleton end to end on the real stack: gateway logs on a 3-partition topic of a
 * real Kafka broker, the shipped pipeline, and each tenant's own real Prometheus.
 */
const stack = inject('stack');
const TOPIC = 'bailian.gateway.logs';
const DLQ_TOPIC = 'sluice.bailian-gateway.dlq';
const PARTITIONS = 3;
const WINDOW_MS = 10_000;
const LATE_PARTITION = 2;

const kafka = new Kafka({ clientId: 'gateway-test', brokers: stack.brokers, logLevel: logLevel.NOTHING });

// Event times: two minutes of traffic ending a minute ago, so every window is final by wall clock.
const start = Math.floor((Date.now() - 180_000) / WINDOW_MS) * WINDOW_MS + 1_234;
const good: GatewayCallLog[] = [...generateGatewayLogs({ seed: 7, tenants: TEST_TENANTS, startMs: start, spanMs: 120_000, count: 12_000 })];
const lastWindowEnd = Math.floor(Math.max(...good.map((r) => r.timestamp)) / WINDOW_MS) * WINDOW_MS + WINDOW_MS;

/**
 * Bad input, each with the dead-letter reason it must get; keys identify them in the DLQ.
 * Record-shaped ones take the event time of the place they are inserted, so only their flaw
 * decides their fate (a stale timestamp would make them merely late).
 */
const template = good[0]!;
const record = (at: number, patch: Record<string, unknown>) => json({ ...template, timestamp: at, ...patch });
const bad: { key: string; reason: string; partition: number; build: (at: number) => Buffer | null }[] = [
  { key: 'bad-not-json', reason: 'malformed', partition: 0, build: () => Buffer.from('{"request_id": "r", ') },
  { key: 'bad-array', reason: 'malformed', partition: 1, build: () => Buffer.from('[1,2,3]') },
  { key: 'bad-tombstone', reason: 'malformed', partition: 2, build: () => null },
  { key: 'bad-status-type', reason: 'schema', partition: 0, build: (at) => record(at, { http_status: '200' }) },
  { key: 'bad-no-tenant', reason: 'schema', partition: 1, build: (at) => record(at, { tenant_id: undefined }) },
  { key: 'bad-unknown-tenant', reason: 'unroutable', partition: 2, build: (at) => record(at, { tenant_id: 'umbrella' }) },
  { key: 'bad-time', reason: 'no_event_time', partition: 0, build: () => record(-5, {}) },
  { key: 'bad-negative-tokens', reason: 'invalid_value', partition: 1, build: (at) => record(at, { input_tokens: -3 }) },
  { key: 'bad-oversized', reason: 'oversized', partition: 2, build: (at) => record(at, { user_agent: 'x'.repeat(70_000) }) },
  { key: 'bad-label-injection', reason: 'invalid_value', partition: 0, build: (at) => record(at, { model: 'qwen"}\nevil{tenant="globex' }) },
];
/** The bytes each bad record was produced with, by key, filled in by `partitionedMessages`. */
const badBytes = new Map<string, Buffer | null>();

let running: RunningPipelines | undefined;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
  await admin.disconnect();

  await produce(partitionedMessages());

  const env = {
    SLUICE_KAFKA_BROKERS: stack.brokers.join(','),
    SLUICE_IDLE_TIMEOUT: '2s',
    SLUICE_TELEMETRY_LISTEN: '127.0.0.1:0',
    ...Object.fromEntries(TEST_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, stack.prometheus[t]!.remoteWriteUrl])),
  };
  const loaded = await loadPipelineFile(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url).pathname, env);
  running = await startPipelines([loaded], { logger: pino({ level: 'warn' }) });
});

afterAll(async () => {
  await running?.stop();
});

describe('gateway logs → per-tenant Prometheus', () => {
  it('delivers exact counters and histogram buckets to each tenant, and only that tenant\'s series', async () => {
    const expected = gatewayOracle(good);
    const actual = await eventually(async () => {
      const perTenant = new Map<string, Map<string, number>>();
      for (const tenant of TEST_TENANTS) perTenant.set(tenant, await tenantSeries(tenant));
      return perTenant;
    }, (perTenant) => TEST_TENANTS.every((t) => sameCounts(perTenant.get(t)!, expected.get(t)!)));

    for (const tenant of TEST_TENANTS) {
      const want = expected.get(tenant)!;
      const got = actual.get(tenant)!;
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [id, value] of want) {
        if (isFloatSum(id)) expect(Math.abs(got.get(id)! - value), id).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
        else expect(got.get(id), id).toBe(value);
      }
      // Each tenant's own fine-tuned model shows up only in its own Prometheus.
      for (const other of TEST_TENANTS.filter((t) => t !== tenant)) {
        expect([...got.keys()].some((id) => id.includes(`qwen-plus-ft-${other}`))).toBe(false);
      }
    }
  });

  it('sends every bad record to the dead-letter topic with its reason and origin', async () => {
    const expectedReasons = new Map([...bad.map((b) => [b.key, b.reason] as const), ['late-record', 'late']]);
    const dead = await readDeadLetters(expectedReasons.size);
    expect(new Map(dead.map((d) => [d.key, d.reason]))).toEqual(expectedReasons);
    for (const d of dead) {
      expect(d.topic).toBe(TOPIC);
      expect(d.partition).toBe(String(bad.find((b) => b.key === d.key)?.partition ?? LATE_PARTITION));
      expect(d.offset).toMatch(/^\d+$/);
      expect(d.value).toEqual(badBytes.get(d.key)); // the original bytes, untouched
    }
  });

  it('counts records in, dead letters by reason and samples sent per tenant on /metrics', async () => {
    const body = await (await fetch(`${running!.telemetryUrl}/metrics`)).text();
    expect(body).toContain(`sluice_records_in_total{pipeline="bailian-gateway",topic="${TOPIC}"} ${good.length + bad.length + 1}`);
    expect(body).toContain('sluice_dead_letter_records_total{pipeline="bailian-gateway",reason="malformed"} 3');
    expect(body).toContain('sluice_dead_letter_records_total{pipeline="bailian-gateway",reason="late"} 1');
    for (const tenant of TEST_TENANTS) expect(body).toMatch(new RegExp(`sluice_remote_write_samples_sent_total\\{tenant="${tenant}"\\} [1-9]`));
    expect((await fetch(`${running!.telemetryUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${running!.telemetryUrl}/readyz`)).status).toBe(200);
  });
});

/** Good records spread round-robin over partitions, shuffled within 3 s (inside the 5 s bound), bad ones mixed in. */
function partitionedMessages(): (Message & { partition: number })[][] {
  const random = seededRandom(99);
  const perPartition: (Message & { partition: number; sortKey: number })[][] = Array.from({ length: PARTITIONS }, () => []);
  good.forEach((record, i) => {
    const partition = i % PARTITIONS;
    perPartition[partition]!.push({ partition, key: record.request_id, value: json(record), sortKey: record.timestamp + random() * 3_000 });
  });
  for (const list of perPartition) list.sort((a, b) => a.sortKey - b.sortKey);
  bad.forEach((b, i) => {
    const list = perPartition[b.partition]!;
    const at = Math.floor(((i + 1) / (bad.length + 1)) * list.length);
    const value = b.build(Math.floor(list[at]!.sortKey));
    badBytes.set(b.key, value);
    list.splice(at, 0, { partition: b.partition, key: b.key, value, sortKey: 0 });
  });
  // Last on its partition, 30 s older than the partition's newest record: beyond
  // max_out_of_orderness (5 s) + allowed_lateness (0 s), so late whatever the timing.
  const lateList = perPartition[LATE_PARTITION]!;
  const newest = Math.max(...good.filter((_, i) => i % PARTITIONS === LATE_PARTITION).map((r) => r.timestamp));
  const late = record(newest - 30_000, { request_id: 'late' });
  badBytes.set('late-record', late);
  lateList.push({ partition: LATE_PARTITION, key: 'late-record', value: late, sortKey: 0 });
  return perPartition.map((list) => list.map(({ sortKey: _sortKey, ...message }) => message));
}

async function produce(partitions: (Message & { partition: number })[][]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (const messages of partitions) {
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic: TOPIC, acks: -1, messages: messages.slice(i, i + 500) });
    }
  }
  await producer.disconnect();
}

/** Every series of a tenant's Prometheus at the last window end, as `name{labels}` → value. */
async function tenantSeries(tenant: string): Promise<Map<string, number>> {
  const rows = await queryInstant(stack.prometheus[tenant]!.url, '{__name__=~"bailian_gateway_.+"}', lastWindowEnd / 1000);
  return new Map(rows.map((row) => [seriesId(row.metric), row.value]));
}

function sameCounts(got: Map<string, number>, want: Map<string, number>): boolean {
  if (got.size !== want.size) return false;
  for (const [id, value] of want) {
    const actual = got.get(id);
    if (actual === undefined || Math.abs(actual - value) > 1e-6 * Math.max(1, Math.abs(value))) return false;
  }
  return true;
}

async function readDeadLetters(count: number) {
  const consumer = kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: DLQ_TOPIC, fromBeginning: true });
  const seen: { key: string; value: Buffer | null; reason: string; topic: string; partition: string; offset: string }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const header = (name: string) => message.headers?.[name]?.toString() ?? '';
      seen.push({
        key: message.key?.toString() ?? '',
        value: message.value,
        reason: header(DEAD_LETTER_HEADERS.reason),
        topic: header(DEAD_LETTER_HEADERS.topic),
        partition: header(DEAD_LETTER_HEADERS.partition),
        offset: header(DEAD_LETTER_HEADERS.offset),
      });
    },
  });
  try {
    await eventually(async () => seen.length, (n) => n >= count);
    await new Promise((resolve) => setTimeout(resolve, 500)); // anything beyond the expected count would be a defect
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** Polls `read` until `done` holds or 90 s pass; returns the last value either way, so assertions show the difference. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

