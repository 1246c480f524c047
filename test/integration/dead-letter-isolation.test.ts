import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadPipelineFile } from '../../src/config/load.ts';
import { DEAD_LETTER_HEADERS, deadLetterTopicMaxBytes, DETAILS_MAX_BYTES } from '../../src/runtime/dead-letter.ts';
import { startPipelines, type RunningPipelines } from '../../src/runtime/process.ts';
import { TEST_TENANTS } from '../stack/index.ts';
import { rawSeries } from '../support/gpu-rdma/harness.ts';
import { brokenPush, keptAndFiltered, unmappedNodeExporterPush } from '../support/gpu-rdma/hostile-pushes.ts';
import { diffTenant, gpuRdmaOracle, relabel, seriesId, WINDOW_MS, windowEnd, type TenantSeries } from '../support/gpu-rdma/oracle.ts';
import { generateScrapes, toMessage, type ScrapeMessage } from '../support/gpu-rdma/traffic.ts';
import { createTopic, eventually, produce, readDeadLetters, testKafka, type DeadLetter, type PartitionedMessage } from '../support/kafka-io.ts';
import { metricValue } from '../support/pipelines/harness.ts';
import { startPrometheusReceiver, type ReceiverHandle } from '../support/receivers/services.ts';

/**
 * Dead letters that can neither amplify a message nor fail a partition (issue 8), on the real
 * stack with pipelines/gpu-rdma.yaml (under its own name, topics and receivers): a 380 KB
 * node_exporter push from an unmapped `host:9100` node (~1,000 unroutable samples, which used to
 * become ~1,000 copies of the push in one transaction) and a 2 MiB push that breaks off in a
 * 500 KB metric name (over the broker's default 1 MB, within the pipeline's max_message_bytes),
 * each on a partition never committed before (the first thing on it) and on a partition with a
 * commit. The fleet's good pushes around them must come out exactly as the oracle computes, and
 * each hostile push must be exactly one dead letter, with its original bytes and capped headers.
 */
const stack = inject('stack');
const PIPELINE = new URL('../../pipelines/gpu-rdma.yaml', import.meta.url);
const NAME = 'gpu-rdma-dlq-isolation';
const TOPIC = 'dlq-isolation.node.metrics';
const GROUP = 'sluice-gpu-rdma-dlq-isolation';
const DLQ_TOPIC = 'sluice.gpu-rdma-dlq-isolation.dlq';
const FAMILIES = '{__name__=~"gpu_.+|rdma_.+|DCGM_.+|node_infiniband_.+"}';
/** Long enough that the committed partition does not go idle while the test waits for its commit. */
const IDLE_TIMEOUT = '20s';

const kafka = testKafka(stack.brokers, 'dlq-isolation-test');

// The gpu-rdma test's fleet: three minutes of pushes ending 70–100 s ago. DCGM pushes go to the
// partition never committed (0), node_exporter pushes to the committed one (1), in push order.
const start = Math.floor((Date.now() - 250_000) / WINDOW_MS) * WINDOW_MS;
const scrapes = generateScrapes(start);
const fleet = scrapes.map(toMessage);
const partitionOf = (m: ScrapeMessage) => (m.scrape.job === 'dcgm' ? 0 : 1);
const throughEnd = windowEnd(Math.max(...scrapes.map((s) => s.timeMs))) + WINDOW_MS;
const samples = relabel(scrapes);
const expected = gpuRdmaOracle(samples, throughEnd);

// The hostile pushes, one of each kind per partition.
const bigPush = (cluster: string) => unmappedNodeExporterPush({ node: 'ib-node-99:9100', cluster, timeMs: start + 60_000, minBytes: 380 * 1024 });
const big = [bigPush('bj-h800-a'), bigPush('bj-h800-b')];
const broken = [
  brokenPush({ job: 'dcgm', node: 'gpu-node-17', cluster: 'bj-h800-a', timeMs: start + 61_000, bytes: 2 * 1024 * 1024, nameBytes: 500 * 1024 }),
  brokenPush({ job: 'node', node: 'ib-node-01', cluster: 'bj-h800-b', timeMs: start + 95_000, bytes: 2 * 1024 * 1024, nameBytes: 500 * 1024 }),
];
const bigCounts = keptAndFiltered(big[0]!);
/** The fleet's own dead letters: three pushes of the unmapped gpu-node-42 and one truncated push. */
const fleetDead = fleet.filter((m) => m.scrape.truncated || m.scrape.node === 'gpu-node-42');

const asMessage = (m: { key: string; value: Buffer; headers: { push_time_ms: string } }, partition: number): PartitionedMessage => ({ partition, key: m.key, value: m.value, headers: m.headers });
/** Partition 0: the hostile pushes first (offsets 0 and 1, in one producer batch), then the DCGM pushes. */
const partition0 = [asMessage(big[0]!, 0), asMessage(broken[0]!, 0), ...fleet.filter((m) => partitionOf(m) === 0).map((m) => asMessage(m, 0))];
/** Partition 1: node_exporter pushes of the first 90 s; after their commit the hostile pushes, then the rest. */
const nodePushes = fleet.filter((m) => partitionOf(m) === 1);
const partition1Before = nodePushes.filter((m) => m.scrape.timeMs < start + 90_000).map((m) => asMessage(m, 1));
const partition1After = [asMessage(big[1]!, 1), asMessage(broken[1]!, 1), ...nodePushes.filter((m) => m.scrape.timeMs >= start + 90_000).map((m) => asMessage(m, 1))];

const receiverDir = mkdtempSync(join(tmpdir(), 'sluice-dlq-isolation-'));
const receivers: Record<string, ReceiverHandle> = {};
let running: RunningPipelines | undefined;
let admin: Admin | undefined;
let committedBefore: { partition: number; offset: string }[] = [];
let committedAtHostile = -1;

beforeAll(async () => {
  for (const tenant of TEST_TENANTS) receivers[tenant] = await startPrometheusReceiver(join(receiverDir, tenant));
  admin = kafka.admin();
  await admin.connect();
  await createTopic(kafka, TOPIC, 2, { 'max.message.bytes': String(8 * 1024 * 1024) });
  // A dead-letter topic already there with Kafka's default limit and a setting of its own: start-up raises the one and keeps the other.
  await createTopic(kafka, DLQ_TOPIC, 1, { 'max.message.bytes': '1048588', 'retention.ms': '3600000' });
  await produce(kafka, TOPIC, [partition0.slice(0, 2)], 2);
  await produce(kafka, TOPIC, [partition0.slice(2), partition1Before], 20);
  committedBefore = (await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0]!.partitions;

  const env = {
    SLUICE_KAFKA_BROKERS: stack.brokers.join(','),
    SLUICE_IDLE_TIMEOUT: IDLE_TIMEOUT,
    ...Object.fromEntries(TEST_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, receivers[t]!.remoteWriteUrl])),
  };
  const loaded = await loadPipelineFile(PIPELINE.pathname, env);
  const config = {
    ...loaded.config,
    name: NAME,
    source: { ...loaded.config.source, topics: [TOPIC], group_id: GROUP },
    dead_letter: { ...loaded.config.dead_letter, topic: DLQ_TOPIC },
  };
  running = await startPipelines([{ ...loaded, config }], { logger: pino({ level: 'warn' }), telemetryListen: '127.0.0.1:0' });

  // Partition 1 has a commit covering its first pushes before the hostile ones arrive.
  committedAtHostile = await eventually(() => committedOffset(1), (offset) => offset >= partition1Before.length, 60_000);
  await produce(kafka, TOPIC, [partition1After.slice(0, 2)], 2);
  await produce(kafka, TOPIC, [partition1After.slice(2)], 20);
});

afterAll(async () => {
  await running?.stop();
  await admin?.disconnect();
  for (const receiver of Object.values(receivers)) await receiver.stop();
  rmSync(receiverDir, { recursive: true, force: true });
});

async function committedOffset(partition: number): Promise<number> {
  const offsets = (await admin!.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0]!.partitions;
  return Number(offsets.find((p) => p.partition === partition)?.offset ?? -1);
}

async function allTenants(): Promise<TenantSeries> {
  const out: TenantSeries = new Map();
  for (const tenant of TEST_TENANTS) {
    out.set(
      tenant,
      await rawSeries(receivers[tenant]!.url, FAMILIES, (throughEnd - start) / 1000 + 60, throughEnd / 1000, (metric) => {
        const { __name__: name, ...labels } = metric;
        return seriesId(name!, labels);
      }),
    );
  }
  return out;
}

const diff = (actual: TenantSeries) => TEST_TENANTS.flatMap((t) => diffTenant(t, expected.get(t) ?? new Map(), actual.get(t) ?? new Map()));

describe('dead letters cannot amplify or fail: 380 KB unroutable push and 2 MiB malformed push', () => {
  it('the hostile pushes are what the issue describes', () => {
    for (const m of big) {
      expect(m.value.length).toBeGreaterThanOrEqual(380 * 1024);
      expect(m.value.length).toBeLessThan(400 * 1024);
      expect(m.key).toContain('/instance/ib-node-99%3A9100/'); // the push path encodes the instance's colon
    }
    expect(bigCounts.unroutable).toBe(bigCounts.kept);
    expect(bigCounts.unroutable).toBeGreaterThanOrEqual(960);
    for (const m of broken) expect(m.value.length).toBe(2 * 1024 * 1024);
    // Partition 0 had no commit when the pipeline started; partition 1 had one before its hostile pushes.
    expect(committedBefore.map((p) => Number(p.offset))).toEqual([-1, -1]);
    expect(committedAtHostile).toBe(partition1Before.length);
  });

  it('raised the existing dead-letter topic\'s max.message.bytes above the pipeline\'s largest message, keeping its other settings', async () => {
    const described = await admin!.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: DLQ_TOPIC, configNames: ['max.message.bytes', 'retention.ms'] }] });
    const configs = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(configs).toEqual({ 'max.message.bytes': String(deadLetterTopicMaxBytes(4 * 1024 * 1024)), 'retention.ms': '3600000' });
  });

  it('delivers the good pushes around them to every tenant exactly as the oracle computes', async () => {
    const actual = await eventually(allTenants, (a) => diff(a).length === 0, 120_000, 1_000);
    expect(diff(actual).slice(0, 30)).toEqual([]);
  });

  it('writes exactly one dead letter per hostile push, with the original bytes and capped headers', async () => {
    const dead = await readDeadLetters(kafka, DLQ_TOPIC, fleetDead.length + 4, { timeoutMs: 60_000, graceMs: 3_000 });
    expect(dead).toHaveLength(fleetDead.length + 4);

    const at = (partition: number, offset: number) => dead.filter((d) => d.partition === String(partition) && d.offset === String(offset));
    const hostile: [DeadLetter[], { key: string; value: Buffer }, string][] = [
      [at(0, 0), big[0]!, `unroutable=${bigCounts.unroutable}`],
      [at(0, 1), broken[0]!, 'malformed=1'],
      [at(1, partition1Before.length), big[1]!, `unroutable=${bigCounts.unroutable}`],
      [at(1, partition1Before.length + 1), broken[1]!, 'malformed=1'],
    ];
    for (const [letters, original, reasons] of hostile) {
      expect(letters, `${original.key} ${reasons}`).toHaveLength(1);
      const [letter] = letters;
      expect(letter!.key).toBe(original.key);
      expect(letter!.value?.equals(original.value), `${original.key}: the original bytes, once`).toBe(true);
      expect(letter!.reasons).toBe(reasons);
      expect(letter!.reason).toBe(reasons.split('=')[0]);
      expect(letter!.valueDropped).toBe('');
      expect(letter!.topic).toBe(TOPIC);
      expect(letter!.pipeline).toBe(NAME);
    }
    expect(hostile[0]![0][0]!.detail).toBe('field "tenant_key" has no tenant mapping');
    expect(hostile[1]![0][0]!.detail).toMatch(/^prometheus_text line \d+:/);
    for (const d of dead) {
      expect(Buffer.byteLength(d.detail), `${d.key} detail`).toBeLessThanOrEqual(DETAILS_MAX_BYTES);
      const headerBytes = Object.keys(DEAD_LETTER_HEADERS).reduce((n, field) => n + Buffer.byteLength(d[field as keyof typeof DEAD_LETTER_HEADERS]), 0);
      expect(headerBytes, `${d.key} headers`).toBeLessThanOrEqual(2 * 1024);
    }
    // The fleet's dead letters: one per push, whatever number of its samples failed.
    const byKeyOffset = (list: readonly DeadLetter[]) => list.map((d) => `${d.key} ${d.reasons}`).sort();
    const hostileLetters = new Set(hostile.map(([letters]) => letters[0]).filter((d) => d !== undefined));
    expect(byKeyOffset(dead.filter((d) => !hostileLetters.has(d)))).toEqual(
      fleetDead.map((m) => `${m.key} ${m.scrape.truncated ? 'malformed=1' : 'unroutable=15'}`).sort(),
    );
  });

  it('counts records, dead-letter messages and no unwritable letter; the partitions are committed to their ends', async () => {
    const ends = await admin!.fetchTopicOffsets(TOPIC);
    for (const p of ends) await eventually(() => committedOffset(p.partition), (offset) => offset === Number(p.high), 30_000);
    for (const p of ends) expect(await committedOffset(p.partition), `partition ${p.partition}`).toBe(Number(p.high));
    expect(ends.map((p) => Number(p.high)).sort()).toEqual([partition0.length, partition1Before.length + partition1After.length].sort());

    const body = await (await fetch(`${running!.telemetryUrl}/metrics`)).text();
    const value = (name: string, labels: Record<string, string> = {}) => metricValue(body, name, { pipeline: NAME, ...labels });
    const fleetUnroutable = samples.filter((s) => s.tenant === undefined).length;
    const filteredOut = scrapes.filter((s) => !s.truncated).reduce((n, s) => n + s.families.filter((f) => !/^(DCGM_FI_(DEV|PROF)_|node_infiniband_)/.test(f.name)).reduce((m, f) => m + f.samples.length, 0), 0);
    expect(value('sluice_records_in_total', { topic: TOPIC })).toBe(fleet.length + 4);
    expect(value('sluice_records_filtered_total')).toBe(filteredOut + 2 * bigCounts.filtered);
    expect(value('sluice_dead_letter_records_total', { reason: 'unroutable' })).toBe(fleetUnroutable + 2 * bigCounts.unroutable);
    expect(value('sluice_dead_letter_records_total', { reason: 'malformed' })).toBe(3);
    expect(value('sluice_dead_letter_messages_total', { reason: 'unroutable' })).toBe(3 + 2);
    expect(value('sluice_dead_letter_messages_total', { reason: 'malformed' })).toBe(1 + 2);
    expect(value('sluice_dead_letter_unwritable_total')).toBe(0);
    expect(value('sluice_consumer_lag_records', { topic: TOPIC, partition: '0' })).toBe(0);
    expect(value('sluice_consumer_lag_records', { topic: TOPIC, partition: '1' })).toBe(0);
  });

  it('isolates a dead letter the topic refuses after all (its limit lowered under the running pipeline): written without its bytes, counted; the partition moves on', async () => {
    await admin!.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: DLQ_TOPIC, configEntries: [{ name: 'max.message.bytes', value: '200000' }, { name: 'retention.ms', value: '3600000' }] }],
    });
    const push = unmappedNodeExporterPush({ node: 'ib-node-98:9100', cluster: 'bj-h800-b', timeMs: Date.now(), minBytes: 380 * 1024 });
    await produce(kafka, TOPIC, [[asMessage(push, 1)]], 1);
    const end = partition1Before.length + partition1After.length + 1;
    expect(await eventually(() => committedOffset(1), (offset) => offset === end, 90_000)).toBe(end);

    const dead = await readDeadLetters(kafka, DLQ_TOPIC, fleetDead.length + 4 + 1, { timeoutMs: 30_000, graceMs: 2_000 });
    const letters = dead.filter((d) => d.partition === '1' && d.offset === String(end - 1));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ key: push.key, value: null, reason: 'unroutable', reasons: `unroutable=${bigCounts.unroutable}`, valueDropped: 'too_large', valueBytes: String(push.value.length) });
    expect(dead).toHaveLength(fleetDead.length + 4 + 1);

    const body = await (await fetch(`${running!.telemetryUrl}/metrics`)).text();
    expect(metricValue(body, 'sluice_dead_letter_unwritable_total', { pipeline: NAME })).toBe(1);
    expect(metricValue(body, 'sluice_dead_letter_messages_total', { pipeline: NAME, reason: 'unroutable' })).toBe(3 + 2 + 1);
  });
});
