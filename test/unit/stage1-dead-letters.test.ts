import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../src/config/load.ts';
import { planMetrics, planWindowing } from '../../src/operators/windowed-metrics/plan.ts';
import { DEAD_LETTER_HEADERS as H } from '../../src/runtime/dead-letter.ts';
import { Ingest } from '../../src/runtime/ingest.ts';
import { ProgressWatch } from '../../src/runtime/progress-watch.ts';
import { systemScheduler } from '../../src/runtime/scheduler.ts';
import { Stage1 } from '../../src/runtime/stage1.ts';
import type { CommittedOffset, ConsumeOptions, KafkaClient, PartitionOffset, SourceRecord, TransactionContent } from '../../src/sources/kafka/client.ts';
import { SluiceMetrics } from '../../src/telemetry/metrics.ts';
import { unmappedNodeExporterPush } from '../support/gpu-rdma/hostile-pushes.ts';

/**
 * Stage 1's dead letters over an in-memory Kafka client: one letter per source message, and a
 * partition never committed that survives a transaction Kafka refuses as too large (it used to
 * throw restoring the 'null' clock, and had no offset to re-read from).
 */
const TOPIC = 'node.metrics';
const DLQ = 'sluice.gpu-rdma.dlq';

class FakeKafka implements KafkaClient {
  consumer: ConsumeOptions | undefined;
  readonly seeks: PartitionOffset[] = [];
  readonly commits: TransactionContent[] = [];
  /** Errors the next commits throw, in order. */
  readonly failures: unknown[] = [];

  async ensureTopics(): Promise<void> {}
  async consume(options: ConsumeOptions) {
    this.consumer = options;
    return { pause: () => {}, resume: () => {}, rejoin: () => {}, seek: (p: PartitionOffset) => void this.seeks.push(p), stop: async () => {} };
  }
  async transactionalProducer() {
    return {
      commit: async (content: TransactionContent) => {
        const failure = this.failures.shift();
        if (failure) throw failure;
        this.commits.push(content);
      },
      close: async () => {},
    };
  }
  async partitionEnds() {
    return [];
  }
  async committedOffsets(): Promise<CommittedOffset[]> {
    return [{ topic: TOPIC, partition: 0, offset: -1, metadata: null }];
  }
  async partitionCount() {
    return 1;
  }
  async close() {}
}

let stage1: Stage1 | undefined;
afterEach(async () => {
  await stage1?.stop();
  stage1 = undefined;
});

/**
 * Delivers the batch until `done`: a task skips batches while it takes the partition over (and
 * the successor of a failed one starts after a backoff), as kafkajs would fetch them again.
 */
async function deliverUntil(kafka: FakeKafka, done: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100 && !done(); attempt++) {
    await kafka.consumer!.onBatch(batch);
    if (!done()) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startStage1(kafka: FakeKafka, metrics: SluiceMetrics): Promise<Stage1> {
  const loaded = await loadPipelineFile(new URL('../../pipelines/gpu-rdma.yaml', import.meta.url).pathname, {});
  // Every batch flushes (as after flush_interval): the test sees each transaction as the batch that made it.
  const config = { ...loaded.config, repartition: { ...loaded.config.repartition, flush_interval: 1 } };
  const logger = pino({ level: 'silent' });
  stage1 = new Stage1({
    config,
    groups: planMetrics(config.metrics),
    windowing: planWindowing(config.window),
    ingest: new Ingest(loaded),
    kafka,
    metrics,
    logger,
    progress: new ProgressWatch(config.name, 60_000, metrics, logger),
    partialsTopic: 'sluice.gpu-rdma.partials',
    partialsPartitions: 4,
    clock: systemScheduler(),
  });
  await stage1.start();
  kafka.consumer!.onAssigned([{ topic: TOPIC, partition: 0 }]);
  return stage1;
}

const now = Date.now();
const unmapped = unmappedNodeExporterPush({ node: 'ib-node-99:9100', cluster: 'c', timeMs: now - 60_000, minBytes: 20_000, devices: 4 });
const good = `# TYPE DCGM_FI_DEV_GPU_UTIL gauge\nDCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="gpu-node-17",namespace="llm-serving"} 87\n`;
const records: SourceRecord[] = [
  { topic: TOPIC, partition: 0, offset: 5, key: Buffer.from(unmapped.key), value: unmapped.value, headers: unmapped.headers },
  { topic: TOPIC, partition: 0, offset: 6, key: Buffer.from('job/dcgm/instance/gpu-node-17/cluster/c'), value: Buffer.from(good), headers: { push_time_ms: String(now - 59_000) } },
];
const batch = { topic: TOPIC, partition: 0, records, highWatermark: 7, superseded: () => false };
const unroutableSamples = 4 * 2 * 15; // 4 HCAs × 2 ports × 15 InfiniBand families

describe('stage 1 dead letters', () => {
  it('writes one dead letter for a push with many unroutable samples, beside the good push\'s partials', async () => {
    const kafka = new FakeKafka();
    const metrics = new SluiceMetrics();
    await startStage1(kafka, metrics);
    await deliverUntil(kafka, () => kafka.commits.some((c) => c.messages.some((m) => m.topic === DLQ)));
    await stage1!.stop();
    const messages = kafka.commits.flatMap((c) => c.messages);
    const letters = messages.filter((m) => m.topic === DLQ);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.value).toBe(unmapped.value);
    expect(letters[0]!.headers?.[H.reasons]).toBe(`unroutable=${unroutableSamples}`);
    expect(messages.some((m) => m.topic === 'sluice.gpu-rdma.partials' && m.key !== null && String(m.key).length > 0)).toBe(true);
    expect(kafka.commits.at(-1)!.offsets.partitions).toMatchObject([{ topic: TOPIC, partition: 0, offset: 7 }]);
    const body = await metrics.registry.metrics();
    expect(body).toContain(`sluice_dead_letter_records_total{pipeline="gpu-rdma",reason="unroutable"} ${unroutableSamples}`);
    expect(body).toContain('sluice_dead_letter_messages_total{pipeline="gpu-rdma",reason="unroutable"} 1');
  });

  it('on a partition never committed, a transaction refused as too large is read again from its first offset and the letter isolated', async () => {
    const kafka = new FakeKafka();
    const metrics = new SluiceMetrics();
    kafka.failures.push(Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' }));
    await startStage1(kafka, metrics);
    await deliverUntil(kafka, () => kafka.failures.length === 0);
    expect(kafka.commits).toHaveLength(0);
    // Read again from where this partition's reading began: nothing of the failed transaction is lost.
    expect(kafka.seeks).toContainEqual({ topic: TOPIC, partition: 0, offset: 5 });

    await deliverUntil(kafka, () => kafka.commits.some((c) => c.messages.some((m) => m.topic === DLQ)));
    await stage1!.stop();
    const letters = kafka.commits.flatMap((c) => c.messages).filter((m) => m.topic === DLQ);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.value).toBeNull();
    expect(letters[0]!.key).toEqual(Buffer.from(unmapped.key));
    expect(letters[0]!.headers).toMatchObject({ [H.valueDropped]: 'too_large', [H.valueBytes]: String(unmapped.value.length), [H.offset]: '5', [H.reasons]: `unroutable=${unroutableSamples}` });
    expect(kafka.commits.at(-1)!.offsets.partitions).toMatchObject([{ offset: 7 }]);
    const body = await metrics.registry.metrics();
    expect(body).toContain('sluice_dead_letter_unwritable_total{pipeline="gpu-rdma"} 1');
    expect(body).toContain(`sluice_dead_letter_records_total{pipeline="gpu-rdma",reason="unroutable"} ${unroutableSamples}`);
  });
});
