import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../src/config/load.ts';
import { PipelineRunner } from '../../../src/runtime/pipeline.ts';
import { PartitionProgress, stallBoundMs } from '../../../src/runtime/progress-watch.ts';
import type { MetricSink } from '../../../src/core/metric-model.ts';
import type {
  CommittedOffset,
  ConsumeOptions,
  Consumer,
  KafkaClient,
  PartitionEnds,
  SourceRecord,
  TransactionContent,
  TransactionalProducer,
} from '../../../src/sources/kafka/client.ts';
import { KafkaUnavailableError } from '../../../src/sources/kafka/client.ts';
import { startTelemetryServer, type TelemetryServer } from '../../../src/telemetry/http-server.ts';
import { SluiceMetrics } from '../../../src/telemetry/metrics.ts';

describe('PartitionProgress', () => {
  it('stalls only while records wait and the position does not move', () => {
    const p = new PartitionProgress();
    p.observe(10, 11, 1_000); // one past the position: a transaction's commit marker, nothing to read
    p.observe(10, 11, 2_000);
    p.observe(10, 11, 3_000);
    expect(p.stalledSince).toBe(0);
    p.observe(10, 15, 4_000); // records arrived, position stays
    expect(p.stalledSince).toBe(4_000);
    p.observe(10, undefined, 9_000); // end unreadable (broker away): the last known end stands
    expect(p.stalledSince).toBe(4_000);
    p.observe(undefined, 15, 9_500); // owner re-initialising: the last known position stands
    expect(p.stalledSince).toBe(4_000);
    p.observe(12, 15, 10_000); // progress
    expect(p.stalledSince).toBe(0);
  });

  it('takes no end older than the last move as its baseline: a partition that reached its end unseen is not stalled', () => {
    const p = new PartitionProgress();
    p.observe(100, 150, 1_000);
    p.observe(160, undefined, 2_000); // moved while the end could not be read: the known end (150) is stale
    p.observe(160, 160, 3_000); // the end, read again: every record is in
    p.observe(160, 160, 60_000);
    expect(p.stalledSince).toBe(0);
    p.observe(160, 162, 61_000); // then records do arrive and the position stays
    expect(p.stalledSince).toBe(61_000);
  });

  it('counts a grown end as waiting records even one past the position', () => {
    const p = new PartitionProgress();
    p.observe(20, 21, 1_000);
    p.observe(20, 21, 2_000);
    expect(p.stalledSince).toBe(0);
    p.observe(20, 22, 3_000);
    expect(p.stalledSince).toBe(3_000);
  });

  it('bounds the stall at max(30 s, 3 x session timeout)', () => {
    expect(stallBoundMs(6_000)).toBe(30_000);
    expect(stallBoundMs(45_000)).toBe(135_000);
  });
});

const PIPELINE = `
name: ready-test
source:
  type: kafka
  brokers: 127.0.0.1:9
  topics: [in]
  group_id: ready-test
  session_timeout: 6s
decode:
  codec: json
event_time:
  field: ts
  format: unix_ms
tenant:
  field: tenant
window:
  type: tumbling
  size: 10s
repartition:
  partitions: 2
  flush_interval: 50ms
state:
  checkpoint_interval: 50ms
metrics:
  - name: ready_requests_total
    type: counter
dead_letter:
  topic: ready-test.dlq
tenants:
  t1: { endpoint: "http://127.0.0.1:9/api/v1/write" }
`;

/** A Kafka client in memory: every partition is assigned at once, ends are set by the test, batches are delivered by the test. */
class FakeKafka implements KafkaClient {
  readonly ends = new Map<string, number>();
  readonly consumers = new Map<string, ConsumeOptions>();
  readonly commits: TransactionContent[] = [];

  constructor(private readonly partitions: Record<string, number>) {}

  async ensureTopics(): Promise<void> {}

  async consume(options: ConsumeOptions): Promise<Consumer> {
    this.consumers.set(options.groupId, options);
    const assigned = options.topics.flatMap((topic) => Array.from({ length: this.partitions[topic] ?? 0 }, (_, partition) => ({ topic, partition })));
    queueMicrotask(() => options.onAssigned(assigned));
    return { pause() {}, resume() {}, seek() {}, rejoin() {}, stop: async () => {} };
  }

  async transactionalProducer(): Promise<TransactionalProducer> {
    return { commit: async (content) => void this.commits.push(content), close: async () => {} };
  }

  async partitionEnds(topics: readonly string[]): Promise<PartitionEnds[]> {
    return topics.flatMap((topic) =>
      Array.from({ length: this.partitions[topic] ?? 0 }, (_, partition) => ({ topic, partition, low: 0, high: this.ends.get(`${topic}/${partition}`) ?? 0 })),
    );
  }

  async committedOffsets(_groupId: string, topics: readonly string[]): Promise<CommittedOffset[]> {
    return topics.flatMap((topic) => Array.from({ length: this.partitions[topic] ?? 0 }, (_, partition) => ({ topic, partition, offset: -1, metadata: null })));
  }

  async partitionCount(topic: string): Promise<number> {
    return this.partitions[topic] ?? 0;
  }

  async close(): Promise<void> {}
}

const sink: MetricSink = { write: (_tenant, _samples, onSettled) => onSettled?.(), flush: async () => {}, close: async () => {} };

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('readiness', () => {
  let runner: PipelineRunner | undefined;
  let server: TelemetryServer | undefined;
  afterEach(async () => {
    await runner?.stop();
    await server?.close();
  });

  it('is not ready while a source partition with records to read makes no progress, and ready again once it moves', async () => {
    const kafka = new FakeKafka({ in: 1, 'sluice.ready-test.partials': 2 });
    const metrics = new SluiceMetrics();
    let clock = 1_800_000_000_000;
    runner = new PipelineRunner(parsePipeline(PIPELINE, 'p.yaml', {}), { kafka, sink, metrics, logger: pino({ level: 'silent' }), now: () => clock });
    server = await startTelemetryServer('127.0.0.1:0', metrics.registry, () => runner!.ready);
    const readyz = async () => (await fetch(`${server!.url}/readyz`)).status;
    const stalledSince = async () =>
      (await metrics.partitionStalledSince.get()).values.find((v) => v.labels.stage === '1' && v.labels.topic === 'in')?.value;

    await runner.start();
    await eventually(() => runner!.ready, 'both stages to own their partitions');
    expect(await readyz()).toBe(200);

    // 500 records wait on the source partition; the consumer delivers none (as a dead consumer would).
    kafka.ends.set('in/0', 500);
    await eventually(async () => (await stalledSince()) === clock / 1000, 'the stall to be noticed');
    const since = clock;
    expect(runner.ready).toBe(true); // not yet longer than the bound
    clock += stallBoundMs(6_000) + 1_000;
    await eventually(() => !runner!.ready, 'readiness to fail');
    expect(await readyz()).toBe(503);
    expect(runner.stalled()).toEqual([{ stage: '1', topic: 'in', partition: 0, sinceMs: since }]);
    expect(await stalledSince()).toBe(since / 1000);

    // The consumer delivers the records: the partition moves, readiness returns.
    const records: SourceRecord[] = Array.from({ length: 500 }, (_, offset) => ({
      topic: 'in',
      partition: 0,
      offset,
      key: null,
      value: Buffer.from(JSON.stringify({ ts: clock - 60_000, tenant: 't1' })),
      headers: {},
    }));
    await kafka.consumers.get('ready-test')!.onBatch({ topic: 'in', partition: 0, records, highWatermark: 500, superseded: () => false });
    clock += 1_000; // time for the next flush
    await eventually(() => runner!.ready, 'readiness to return');
    expect(await readyz()).toBe(200);
    expect(await stalledSince()).toBe(0);
    await eventually(() => kafka.commits.some((c) => c.offsets.partitions.some((p) => p.offset === 500)), 'the records to be committed');
  });
});

/** The fake above, whose ensureTopics fails as `failures` says before it answers. */
class StartingKafka extends FakeKafka {
  calls = 0;
  constructor(private readonly failures: readonly ((call: number) => Promise<void>)[]) {
    super({ in: 1, 'sluice.ready-test.partials': 2 });
  }

  override async ensureTopics(): Promise<void> {
    const failure = this.failures[this.calls++];
    if (failure) await failure(this.calls);
  }
}

describe('start while Kafka cannot be reached', () => {
  let runner: PipelineRunner | undefined;
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });
  const unreachable = async (call: number) => {
    throw new KafkaUnavailableError(`Kafka could not be reached (call ${call})`);
  };
  const newRunner = (kafka: KafkaClient, metrics = new SluiceMetrics()) =>
    new PipelineRunner(parsePipeline(PIPELINE, 'p.yaml', {}), { kafka, sink, metrics, logger: pino({ level: 'silent' }) });

  it('waits, not ready, and starts once Kafka answers, as a running pipeline waits out an outage', async () => {
    const kafka = new StartingKafka([unreachable, unreachable]);
    const metrics = new SluiceMetrics();
    runner = newRunner(kafka, metrics);
    const server = await startTelemetryServer('127.0.0.1:0', metrics.registry, () => runner!.ready);
    try {
      let started = false;
      const starting = runner.start().then(() => (started = true));
      await eventually(() => kafka.calls >= 1, 'the first attempt');
      expect(started).toBe(false);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      await starting;
      expect(kafka.calls).toBe(3);
      await eventually(() => runner!.ready, 'both stages to own their partitions');
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('ends the start on a failure that is not about reaching Kafka (a refusal, a config problem)', async () => {
    const refused = async () => {
      throw new Error('Topic authorization failed');
    };
    const kafka = new StartingKafka([refused]);
    runner = newRunner(kafka);
    await expect(runner.start()).rejects.toThrow('Topic authorization failed');
    expect(kafka.calls).toBe(1);
  });

  it('stops waiting as soon as the shutdown signal aborts, even inside a Kafka call', async () => {
    const hangs = () => new Promise<void>(() => {}); // a call kafkajs would retry for seconds
    const kafka = new StartingKafka([unreachable, hangs]);
    runner = newRunner(kafka);
    const shutdown = new AbortController();
    const starting = runner.start(shutdown.signal);
    await eventually(() => kafka.calls === 2, 'the second attempt');
    shutdown.abort(new Error('SIGTERM'));
    // Without the abort the start would wait on the hung call for ever (and the test time out).
    await expect(starting).rejects.toThrow('SIGTERM');
  });
});

/** The fake above, whose stage-2 join waits (as a join into a group with a busy member waits out its rebalance) until released, or fails. */
class SlowStage2Kafka extends FakeKafka {
  private release!: (joined: boolean) => void;
  private readonly stage2Joined = new Promise<boolean>((resolve) => (this.release = resolve));

  constructor() {
    super({ in: 1, 'sluice.ready-test.partials': 2 });
  }

  override async consume(options: ConsumeOptions): Promise<Consumer> {
    if (options.groupId.endsWith('.stage2') && !(await this.stage2Joined)) throw new Error('stage 2 could not join');
    return super.consume(options);
  }

  finishStage2Join(joined: boolean): void {
    this.release(joined);
  }
}

describe('start of the two stages', () => {
  let runner: PipelineRunner | undefined;
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });

  it("joins stage 1's group while stage 2's join is still waiting, not after it", async () => {
    const kafka = new SlowStage2Kafka();
    runner = new PipelineRunner(parsePipeline(PIPELINE, 'p.yaml', {}), { kafka, sink, metrics: new SluiceMetrics(), logger: pino({ level: 'silent' }) });
    let started = false;
    const starting = runner.start().then(() => (started = true));
    // A new instance beside busy ones waited out both rebalances in a row when stage 1 joined last.
    await eventually(() => kafka.consumers.has('ready-test'), "stage 1's join");
    expect(started).toBe(false);
    kafka.finishStage2Join(true);
    await starting;
    await eventually(() => runner!.ready, 'both stages to own their partitions');
  });

  it("fails the start when one stage cannot join, once the other's start has settled", async () => {
    const kafka = new SlowStage2Kafka();
    runner = new PipelineRunner(parsePipeline(PIPELINE, 'p.yaml', {}), { kafka, sink, metrics: new SluiceMetrics(), logger: pino({ level: 'silent' }) });
    const starting = runner.start();
    await eventually(() => kafka.consumers.has('ready-test'), "stage 1's join");
    kafka.finishStage2Join(false);
    await expect(starting).rejects.toThrow('stage 2 could not join');
  });
});
