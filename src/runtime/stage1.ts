import type { Logger } from 'pino';
import type { DeadLetterReason, Rejection } from '../core/dead-letter-reason.ts';
import type { PipelineConfig } from '../config/schema.ts';
import { MAX_COMBINER_SERIES, PreAggregator } from '../operators/windowed-metrics/pre-aggregator.ts';
import type { SeriesGroupPlan, Windowing } from '../operators/windowed-metrics/plan.ts';
import type { Consumer, KafkaClient, OutgoingMessage, SourceBatch, SourceRecord, TopicPartition, TransactionalProducer } from '../sources/kafka/client.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import { deadLetterMessage } from './dead-letter.ts';
import type { Ingest } from './ingest.ts';
import { encodeMarker, encodePartial, MARKER_KEY, partitionOfSeries } from './repartition-codec.ts';
import { PartitionClock } from './partition-clock.ts';
import { GroupMember } from './group-member.ts';
import { Serial } from './serial.ts';

export interface Stage1Deps {
  readonly config: PipelineConfig;
  readonly groups: readonly SeriesGroupPlan[];
  readonly windowing: Windowing;
  readonly ingest: Ingest;
  readonly kafka: KafkaClient;
  readonly metrics: SluiceMetrics;
  readonly logger: Logger;
  readonly partialsTopic: string;
  readonly partialsPartitions: number;
  readonly now: () => number;
  readonly sessionTimeoutMs?: number;
}

/**
 * Stage 1 of a pipeline, one task per owned source partition: decode, validate, resolve the
 * tenant, assign event time, classify lateness by the partition's own watermark, and
 * pre-aggregate. Every `flush_interval` a task writes, in ONE Kafka transaction, its partials
 * (keyed by series onto the internal topic), its dead letters, a watermark marker for every
 * stage-2 partition, and its source offset with the partition's watermark state as metadata.
 *
 * The transactional id is derived from the source partition: a new owner of the partition
 * fences the old one, so a paused instance that lost the partition cannot commit late.
 */
export class Stage1 {
  private readonly member: GroupMember;
  private readonly tasks = new Map<string, SourceTask>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: Stage1Deps) {
    this.log = deps.logger.child({ stage: 1 });
    const { config } = deps;
    this.member = new GroupMember(deps.kafka, {
      groupId: config.source.group_id,
      topics: config.source.topics,
      fromBeginning: config.source.start_from === 'earliest',
      ...(deps.sessionTimeoutMs ? { sessionTimeoutMs: deps.sessionTimeoutMs } : {}),
      log: this.log,
      onAssigned: (partitions) => this.onAssigned(partitions),
      onBatch: (batch) => this.onBatch(batch),
    });
  }

  get assigned(): boolean {
    return this.member.assigned;
  }

  async start(): Promise<void> {
    await this.member.start();
    this.timer = setInterval(() => void this.tick(), Math.min(this.deps.config.repartition.flush_interval, 1_000));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.member.stop();
    await Promise.all([...this.tasks.values()].map((task) => task.serial.run(() => task.flush(true))));
    await Promise.all([...this.tasks.values()].map((task) => task.close()));
    this.tasks.clear();
  }

  private async onAssigned(partitions: readonly TopicPartition[]): Promise<void> {
    const keys = new Set(partitions.map(keyOf));
    const previous = [...this.tasks.values()];
    // Every task restarts from what is committed: kafkajs re-reads committed offsets after a rebalance.
    await Promise.all(previous.map((task) => task.close()));
    this.tasks.clear();
    for (const partition of partitions) {
      const task = new SourceTask(partition, this.deps, this.log, () => this.member.handle);
      this.tasks.set(keyOf(partition), task);
    }
    this.log.info({ partitions: [...keys] }, 'source partitions assigned');
  }

  private async onBatch(batch: SourceBatch): Promise<void> {
    const task = this.tasks.get(keyOf(batch));
    if (!task) return; // not ours (any more); kafkajs is rebalancing
    await task.ready;
    await task.serial.run(async () => {
      task.process(batch);
      if (this.deps.now() - task.lastFlushAt >= this.deps.config.repartition.flush_interval || task.combinerFull) await task.flush(false);
    });
  }

  private async tick(): Promise<void> {
    await this.member.settled();
    const tasks = [...this.tasks.values()];
    if (tasks.length === 0) return;
    try {
      const ends = await this.deps.kafka.partitionEnds(this.deps.config.source.topics);
      for (const end of ends) this.tasks.get(keyOf(end))?.observeEnd(end.low, end.high);
    } catch (error) {
      this.log.warn({ err: error }, 'could not read partition ends');
    }
    for (const task of tasks) {
      if (this.deps.now() - task.lastFlushAt < this.deps.config.repartition.flush_interval) continue;
      void task.ready.then(() => task.serial.run(() => task.flush(false))).catch(() => {});
    }
  }
}

const keyOf = (p: TopicPartition) => `${p.topic}/${p.partition}`;

class SourceTask {
  readonly serial = new Serial();
  readonly ready: Promise<void>;
  lastFlushAt = 0;
  private producer: TransactionalProducer | undefined;
  private readonly source: string;
  private readonly preAggregator: PreAggregator;
  private deadLetters: OutgoingMessage[] = [];
  /** Dead letters by reason since the last commit; counted once their transaction commits. */
  private deadLetterReasons = new Map<DeadLetterReason, number>();
  /** The clock as of the last commit, and the live one. */
  private committedClock = 'null';
  private readonly clock: PartitionClock;
  /** Records below this offset are already covered by a committed transaction. */
  private committedOffset = -1;
  private position = -1;
  private lastRecordAt: number;
  private caughtUp = false;
  private announced: { watermark: number; idle: boolean } | undefined;
  private closed = false;

  constructor(
    private readonly partition: TopicPartition,
    private readonly deps: Stage1Deps,
    private readonly log: Logger,
    private readonly consumer: () => Consumer,
  ) {
    this.source = keyOf(partition);
    this.preAggregator = new PreAggregator(deps.groups, deps.windowing);
    const window = deps.config.window;
    this.clock = new PartitionClock({ maxOutOfOrdernessMs: window.max_out_of_orderness, allowedLatenessMs: window.allowed_lateness });
    this.lastRecordAt = deps.now();
    this.ready = this.init();
  }

  /** The combiner holds enough series that it flushes early, bounding stage 1's memory. */
  get combinerFull(): boolean {
    return this.preAggregator.seriesCount >= MAX_COMBINER_SERIES;
  }

  private async init(): Promise<void> {
    const { config, kafka } = this.deps;
    // Fence first: this completes any transaction a previous owner left open, so the committed
    // offset read next is final.
    this.producer = await kafka.transactionalProducer(`sluice-${config.name}-${this.partition.topic}-${this.partition.partition}`);
    const committed = (await kafka.committedOffsets(config.source.group_id, [this.partition.topic])).find(
      (c) => c.partition === this.partition.partition,
    );
    if (committed && committed.offset >= 0) {
      this.committedOffset = committed.offset;
      this.position = committed.offset;
      this.clock.restore(committed.metadata);
      this.committedClock = committed.metadata ?? 'null';
      // kafkajs may have started fetching from an older offset it read before the fence.
      this.consumer().seek({ ...this.partition, offset: committed.offset });
    }
  }

  process(batch: SourceBatch): void {
    if (this.closed) return;
    const now = this.deps.now();
    const { metrics, config } = this.deps;
    let counted = 0;
    for (const record of batch.records) {
      if (record.offset < this.committedOffset || record.offset < this.position) continue; // already handled
      counted++;
      this.position = record.offset + 1;
      this.lastRecordAt = now;
      const message = this.deps.ingest.ingest(record.value, record);
      if ('reason' in message) {
        this.reject(record, message);
        continue;
      }
      for (const rejection of message.rejections) this.reject(record, rejection);
      if (message.filtered > 0) this.deps.metrics.filtered.inc({ pipeline: config.name }, message.filtered);
      for (const { tenant, eventTimeMs, record: fields } of message.records) {
        if (this.clock.isLate(eventTimeMs)) {
          this.reject(record, { reason: 'late', detail: 'older than its partition watermark minus allowed_lateness' });
          continue;
        }
        const rejection = this.preAggregator.add(tenant, eventTimeMs, fields);
        if (rejection) this.reject(record, rejection);
        else this.clock.observe(eventTimeMs);
      }
    }
    if (counted > 0) metrics.recordsIn.inc({ pipeline: config.name, topic: batch.topic }, counted);
    this.caughtUp = this.position >= batch.highWatermark;
  }

  observeEnd(low: number, high: number): void {
    const position = this.position >= 0 ? this.position : this.deps.config.source.start_from === 'earliest' ? low : high;
    const lag = Math.max(0, high - position);
    this.deps.metrics.consumerLag.set({ pipeline: this.deps.config.name, topic: this.partition.topic, partition: String(this.partition.partition) }, lag);
    this.caughtUp = lag === 0;
  }

  /** One transaction: partials, dead letters, markers and the source offset. */
  async flush(final: boolean): Promise<void> {
    if (this.closed || !this.producer) return;
    const now = this.deps.now();
    this.lastFlushAt = now;
    const idle = !final && this.caughtUp && now - this.lastRecordAt >= this.deps.config.window.idle_timeout;
    if (idle) this.clock.idleAt(now);
    const watermark = this.clock.watermark;
    const changed = !this.preAggregator.isEmpty || this.deadLetters.length > 0 || this.position > this.committedOffset;
    if (!changed && this.announced?.watermark === watermark && this.announced.idle === idle) return;

    const { groups, partialsTopic, partialsPartitions, config } = this.deps;
    const messages: (OutgoingMessage & { topic: string })[] = [];
    for (const partial of this.preAggregator.drain()) {
      messages.push({ topic: partialsTopic, partition: partitionOfSeries(partial.key, partialsPartitions), key: partial.key, value: encodePartial(partial, groups) });
    }
    const marker = encodeMarker({ source: this.source, watermark, idle });
    for (let p = 0; p < partialsPartitions; p++) messages.push({ topic: partialsTopic, partition: p, key: MARKER_KEY, value: marker });
    for (const deadLetter of this.deadLetters) messages.push({ topic: config.dead_letter.topic, ...deadLetter });
    const reasons = this.deadLetterReasons;
    this.deadLetters = [];
    this.deadLetterReasons = new Map();
    // Nothing read yet on a partition new to the group: commit nothing, announce only.
    const offset = this.position >= 0 ? this.position : undefined;
    try {
      await this.producer.commit({
        messages,
        offsets: {
          groupId: config.source.group_id,
          partitions: offset === undefined ? [] : [{ ...this.partition, offset, metadata: this.clock.serialize() }],
        },
      });
      if (offset !== undefined) this.committedOffset = offset;
      this.committedClock = this.clock.serialize();
      this.announced = { watermark, idle };
      for (const [reason, count] of reasons) this.deps.metrics.deadLetter(config.name, reason, count);
    } catch (error) {
      if (isFenced(error)) {
        // Another instance owns this partition now; it re-reads from the last commit.
        this.closed = true;
        this.log.warn({ partition: this.source }, 'stage-1 producer fenced: the partition moved to another instance');
        return;
      }
      // The transaction is aborted: forget everything since the last commit and read it again.
      this.log.warn({ err: error, partition: this.source }, 'stage-1 transaction failed; re-reading from the last commit');
      this.preAggregator.drain();
      this.deadLetters = [];
      this.deadLetterReasons = new Map();
      this.clock.restore(this.committedClock);
      this.position = this.committedOffset;
      if (this.committedOffset >= 0) this.consumer().seek({ ...this.partition, offset: this.committedOffset });
      throw error;
    }
  }

  private reject(record: SourceRecord, rejection: Rejection): void {
    this.deadLetters.push(deadLetterMessage(record, rejection, this.deps.config.name));
    this.deadLetterReasons.set(rejection.reason, (this.deadLetterReasons.get(rejection.reason) ?? 0) + 1);
  }

  async close(): Promise<void> {
    await this.serial.run(async () => {
      this.closed = true;
      await this.producer?.close().catch(() => {});
    });
  }
}

function isFenced(error: unknown): boolean {
  const { type, message } = error as { type?: string; message?: string };
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || /fenced|epoch/i.test(message ?? '');
}
