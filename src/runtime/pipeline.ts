import type { Logger } from 'pino';
import type { Rejection } from '../core/dead-letter-reason.ts';
import type { LoadedPipeline } from '../config/load.ts';
import type { PipelineConfig } from '../config/schema.ts';
import { planMetrics } from '../operators/windowed-metrics/plan.ts';
import { WindowedMetricsOperator } from '../operators/windowed-metrics/operator.ts';
import type { SampleSink } from '../sinks/sink.ts';
import type { Consumer, KafkaClient, SourceBatch, SourceRecord, TopicPartition } from '../sources/kafka/client.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import { DeadLetterWriter } from './dead-letter.ts';
import { Ingest, isRejection } from './ingest.ts';
import { OffsetTracker } from './offset-tracker.ts';
import { PartitionWatermarks } from './partition-watermarks.ts';

export interface PipelineDeps {
  readonly kafka: KafkaClient;
  readonly sink: SampleSink;
  readonly metrics: SluiceMetrics;
  readonly logger: Logger;
  /** Wall clock; injectable so tests can drive idleness. */
  readonly now?: () => number;
}

/** How often idleness, lag and the wall-clock watermark are re-evaluated. */
const TICK_MS = 1_000;
/** How often safe offsets are committed (after the sink has acknowledged what they cover). */
const COMMIT_INTERVAL_MS = 2_000;

const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * Runs one pipeline: Kafka batches → ingest → per-partition watermarks → windowed metrics →
 * the tenant sink, with rejected records going to the dead-letter topic.
 *
 * Offsets are committed only for records whose windows have fired and whose samples the sink
 * has acknowledged (or whose dead letters Kafka has), so a crash re-reads, never skips.
 */
export class PipelineRunner {
  readonly name: string;
  private readonly config: PipelineConfig;
  private readonly ingest: Ingest;
  private readonly operator: WindowedMetricsOperator;
  private readonly watermarks: PartitionWatermarks;
  private readonly offsets = new OffsetTracker();
  private readonly now: () => number;
  private readonly log: Logger;
  private owned = new Set<string>();
  private ownedPartitions: readonly TopicPartition[] = [];
  private consumer: Consumer | undefined;
  private deadLetters: DeadLetterWriter | undefined;
  private timers: NodeJS.Timeout[] = [];
  private committing: Promise<void> = Promise.resolve();
  private assigned = false;

  constructor(
    loaded: LoadedPipeline,
    private readonly deps: PipelineDeps,
  ) {
    this.config = loaded.config;
    this.name = loaded.config.name;
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ pipeline: this.name });
    this.ingest = new Ingest(loaded);
    const window = this.config.window;
    this.operator = new WindowedMetricsOperator(
      planMetrics(this.config.metrics),
      { windowSizeMs: window.size, allowedLatenessMs: window.allowed_lateness },
      { emit: (tenant, samples) => deps.sink.write(tenant, samples) },
    );
    this.watermarks = new PartitionWatermarks({
      maxOutOfOrdernessMs: window.max_out_of_orderness,
      allowedLatenessMs: window.allowed_lateness,
      idleTimeoutMs: window.idle_timeout,
    });
  }

  /** True once the consumer has joined its group and owns its partitions. */
  get ready(): boolean {
    return this.assigned;
  }

  async start(): Promise<void> {
    const { kafka } = this.deps;
    await kafka.ensureTopics([{ topic: this.config.dead_letter.topic, partitions: 1 }]);
    this.deadLetters = new DeadLetterWriter(await kafka.producer(), this.config.dead_letter.topic, this.name);
    this.consumer = await kafka.consume({
      groupId: this.config.source.group_id,
      topics: this.config.source.topics,
      fromBeginning: this.config.source.start_from === 'earliest',
      onAssigned: (partitions) => this.onAssigned(partitions),
      onBatch: (batch) => this.onBatch(batch),
    });
    this.timers.push(setInterval(() => void this.tick(), TICK_MS));
    this.timers.push(setInterval(() => void this.commit(), COMMIT_INTERVAL_MS));
    this.log.info({ topics: this.config.source.topics, tenants: Object.keys(this.config.tenants) }, 'pipeline started');
  }

  /** Stops consuming and commits what is safe; open windows are re-read on the next start. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.commit();
    await this.consumer?.stop();
    this.consumer = undefined;
    this.log.info('pipeline stopped');
  }

  private onAssigned(partitions: readonly TopicPartition[]): void {
    this.ownedPartitions = partitions;
    this.owned = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)));
    this.watermarks.assign([...this.owned], this.now());
    this.offsets.retain(this.owned);
    this.assigned = true;
    this.log.info({ partitions: [...this.owned] }, 'partitions assigned');
  }

  private async onBatch(batch: SourceBatch): Promise<void> {
    const key = partitionKey(batch.topic, batch.partition);
    const records = batch.records;
    if (records.length === 0) return;
    const now = this.now();
    this.offsets.begin(key, records[0]!.offset);
    for (let i = 0; i < records.length; i++) this.processRecord(key, records[i]!, now);
    this.deps.metrics.recordsIn.inc({ pipeline: this.name, topic: batch.topic }, records.length);
    await this.deadLetters!.flush();
    const next = records[records.length - 1]!.offset + 1;
    this.offsets.done(key, next);
    this.watermarks.setCaughtUp(key, next >= batch.highWatermark);
    this.operator.advanceWatermark(this.watermarks.current(now));
  }

  private processRecord(key: string, record: SourceRecord, now: number): void {
    const result = this.ingest.ingest(record.value);
    if (isRejection(result)) return this.reject(record, result);
    if (this.watermarks.observe(key, result.eventTimeMs, now) === 'late') {
      return this.reject(record, { reason: 'late', detail: 'older than its partition watermark minus allowed_lateness' });
    }
    const rejection = this.operator.process(result.tenant, result.eventTimeMs, result.record);
    if (rejection) return this.reject(record, rejection);
    this.offsets.inWindow(key, record.offset, this.operator.windowStartOf(result.eventTimeMs));
  }

  private reject(record: SourceRecord, rejection: Rejection): void {
    this.deadLetters!.add(record, rejection);
    this.deps.metrics.deadLetter(this.name, rejection.reason);
  }

  /** Re-evaluates idleness and lag, and lets the watermark follow the clock when all is quiet. */
  private async tick(): Promise<void> {
    try {
      await this.refreshProgress();
    } catch (error) {
      this.log.warn({ err: error }, 'could not read partition offsets');
    }
    const now = this.now();
    this.operator.advanceWatermark(this.watermarks.current(now));
    const watermark = this.operator.currentWatermark;
    if (Number.isFinite(watermark)) this.deps.metrics.watermarkDelay.set({ pipeline: this.name }, (now - watermark) / 1000);
    this.deps.metrics.activeSeries.set({ pipeline: this.name }, this.operator.seriesCount);
  }

  private async refreshProgress(): Promise<void> {
    if (this.owned.size === 0) return;
    const { kafka, metrics } = this.deps;
    const topics = this.config.source.topics;
    const ends = await kafka.partitionEnds(topics);
    let committed: Map<string, number> | undefined;
    for (const end of ends) {
      const key = partitionKey(end.topic, end.partition);
      if (!this.owned.has(key)) continue;
      let position = this.offsets.position(key);
      if (position === undefined) {
        committed ??= new Map(
          (await kafka.committedOffsets(this.config.source.group_id, topics)).map((c) => [partitionKey(c.topic, c.partition), c.offset]),
        );
        const stored = committed.get(key) ?? -1;
        position = stored >= 0 ? stored : this.config.source.start_from === 'earliest' ? end.low : end.high;
      }
      const lag = Math.max(0, end.high - position);
      metrics.consumerLag.set({ pipeline: this.name, topic: end.topic, partition: String(end.partition) }, lag);
      this.watermarks.setCaughtUp(key, lag === 0);
    }
  }

  /** Commits, per owned partition, the offsets whose results the sink has acknowledged. */
  private commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const consumer = this.consumer;
      if (!consumer) return;
      const safe = this.offsets.safeOffsets((windowStart) => this.operator.hasFired(windowStart));
      await this.deps.sink.flush();
      const offsets = this.ownedPartitions
        .map((p) => ({ ...p, offset: safe.get(partitionKey(p.topic, p.partition)) }))
        .filter((p): p is TopicPartition & { offset: number } => p.offset !== undefined);
      if (offsets.length > 0) await consumer.commit(offsets);
    }).catch((error: unknown) => this.log.warn({ err: error }, 'offset commit failed; will retry'));
    return this.committing;
  }
}
