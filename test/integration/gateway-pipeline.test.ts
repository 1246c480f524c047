import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningPipelines } from '../../src/runtime/process.ts';
import { queryInstant } from '../stack/prometheus-query.ts';
import { TEST_TENANTS } from '../stack/index.ts';
import { generateGatewayLogs, type GatewayCallLog } from '../support/gateway-traffic.ts';
import { gatewayOracle, isFloatSum } from '../support/gateway-oracle.ts';
import { createTopic, eventually, produce, readDeadLetters, testKafka, type PartitionedMessage } from '../support/kafka-io.ts';
import { startShippedPipeline } from '../support/pipelines/harness.ts';
import { seededRandom } from '../support/seeded-random.ts';
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

const kafka = testKafka(stack.brokers, 'gateway-test');

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
  await createTopic(kafka, TOPIC, PARTITIONS);
  await produce(kafka, TOPIC, partitionedMessages());
  running = await startShippedPipeline(stack, new URL('../../pipelines/bailian-gateway.yaml', import.meta.url));
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
    }, (perTenant) => TEST_TENANTS.every((t) => sameCounts(perTenant.get(t)!, expected.get(t)!)), 90_000);

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
    const dead = await readDeadLetters(kafka, DLQ_TOPIC, expectedReasons.size, { timeoutMs: 90_000, graceMs: 500 });
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
function partitionedMessages(): PartitionedMessage[][] {
  const random = seededRandom(99);
  const perPartition: (PartitionedMessage & { sortKey: number })[][] = Array.from({ length: PARTITIONS }, () => []);
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

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

