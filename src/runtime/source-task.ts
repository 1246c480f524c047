import type { Logger } from 'pino';
import type { Rejection } from '../core/dead-letter-reason.ts';
import { MAX_COMBINER_SERIES, PreAggregator } from '../operators/windowed-metrics/pre-aggregator.ts';
import { watermarkMoveFires } from '../operators/windowed-metrics/plan.ts';
import { backoffDelay, type BackoffPolicy } from '../core/backoff.ts';
import { FencedError, type Consumer, type OutgoingMessage, type SourceBatch, type TopicPartition, type TransactionalProducer } from '../sources/kafka/client.ts';
import { TAPPED } from '../telemetry/tap/hub.ts';
import { tapIngested, tapPartial } from '../telemetry/tap/offer.ts';
import { IngestedBatch } from './ingest.ts';
import { DeadLetters, deadLetterTopicMaxBytes, type DeadLetterBatch } from './dead-letter.ts';
import { encodePartials } from '../codecs/partials/partials-wire.ts';
import type { PartialAggregate } from '../operators/windowed-metrics/partial.ts';
import { encodeMarker, MARKER_KEY, PARTIALS_KEY, SeriesPartitions } from './repartition-codec.ts';
import { PartitionClock } from './partition-clock.ts';
import { keyOf, type PartitionTask } from './partition-host.ts';
import { Serial } from './serial.ts';
import type { Stage1Deps } from './stage1.ts';

/** Re-creating a task's producer after a failed transaction: first try within 0.5 s, ceiling doubling up to 10 s (full jitter). */
export const TASK_RESTART_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 10_000 };

/** Why a task starts: its predecessor's transaction failed this many times in a row; wait this long first. */
export interface TaskRestart {
  readonly attempt: number;
  readonly delayMs: number;
  /** The predecessor's dead letters: which of them Kafka refused as too large. */
  readonly deadLetters: DeadLetters;
}

export class SourceTask implements PartitionTask {
  readonly serial = new Serial();
  lastFlushAt = 0;
  /** Holds its producer and knows its committed offset. */
  initialised = false;
  /** At least one of its transactions committed. */
  committed = false;
  readonly attempt: number;
  private producer: TransactionalProducer | undefined;
  private readonly source: string;
  private readonly preAggregator: PreAggregator;
  /** Each message's usable records, refilled message after message (no objects per record). */
  private readonly batch = new IngestedBatch();
  /** The stage-2 partition of each series key, remembered across flushes. */
  private readonly partitions: SeriesPartitions;
  /** Per stage-2 partition, the partials of the flush in progress (empty between flushes). */
  private readonly outgoing: PartialAggregate[][];
  /**
   * One dead letter per rejected source message since the last commit, counted once their
   * transaction commits. Handed to a successor task, which must remember which letters Kafka
   * refused as too large.
   */
  readonly deadLetters: DeadLetters;
  private readonly clock: PartitionClock;
  /** Records below this offset are already covered by a committed transaction. */
  private committedOffset = -1;
  private position = -1;
  /** The first offset this task processed: where a partition never committed is read again from. */
  private firstOffset = -1;
  /** The first offset of the batches skipped while starting: where to read from if nothing is committed. */
  private skippedFrom = -1;
  /**
   * Since when the partition has been quiet: no record, and its end readable. Idleness is quiet
   * time only: while the broker cannot be reached its producers cannot write either, so that time
   * says nothing about the source (after a broker restart, a partition whose producer had not yet
   * resumed was declared idle and its watermark jumped to the wall clock).
   */
  private quietSince: number;
  private caughtUp = false;
  private announced: { watermark: number; idle: boolean } | undefined;
  private closed = false;
  /** Ends the start-up retries when the task closes. */
  private readonly closing = new AbortController();

  constructor(
    readonly partition: TopicPartition,
    private readonly deps: Stage1Deps,
    private readonly log: Logger,
    private readonly consumer: () => Consumer,
    private readonly failed: (task: SourceTask, error: unknown) => void,
    private readonly restart?: TaskRestart,
  ) {
    this.attempt = restart?.attempt ?? 0;
    this.source = keyOf(partition);
    this.preAggregator = new PreAggregator(deps.groups, deps.windowing);
    this.partitions = new SeriesPartitions(deps.partialsPartitions);
    this.outgoing = Array.from({ length: deps.partialsPartitions }, () => []);
    const window = deps.config.window;
    this.clock = new PartitionClock({ maxOutOfOrdernessMs: window.max_out_of_orderness, allowedLatenessMs: window.allowed_lateness });
    this.deadLetters =
      restart?.deadLetters ??
      new DeadLetters({
        pipeline: deps.config.name,
        topic: deps.config.dead_letter.topic,
        topicMaxBytes: deadLetterTopicMaxBytes(deps.config.source.max_message_bytes),
        log,
      });
    this.quietSince = deps.clock.now();
    void this.start();
  }

  /** Takes the partition over, retrying with backoff while the broker cannot be reached; never rejects. */
  private async start(): Promise<void> {
    let delayMs = this.restart?.delayMs ?? 0;
    for (let attempt = this.attempt; ; attempt++) {
      if (delayMs > 0) await this.deps.clock.sleep(delayMs, this.closing.signal);
      if (this.closed) return;
      try {
        await this.init();
        return;
      } catch (error) {
        await this.producer?.close().catch(() => {});
        this.producer = undefined;
        if (this.closed) return;
        if (attempt === this.attempt || attempt % 10 === 0) this.log.warn({ err: error, partition: this.source, attempt }, 'cannot take over the source partition yet; retrying');
        delayMs = backoffDelay(TASK_RESTART_BACKOFF, attempt + 1, undefined, this.deps.clock.random);
      }
    }
  }

  /** The combiner holds enough series that it flushes early, bounding stage 1's memory. */
  private get combinerFull(): boolean {
    return this.preAggregator.seriesCount >= MAX_COMBINER_SERIES;
  }

  private async init(): Promise<void> {
    const { config, kafka } = this.deps;
    // Fence first: this completes any transaction a previous owner left open, so the committed
    // offset read next is final.
    const producer = await kafka.transactionalProducer(`sluice-${config.name}-${this.partition.topic}-${this.partition.partition}`);
    this.producer = producer;
    if (this.closed) throw new Error('closed while starting'); // start() closes the producer and ends
    const committed = (await kafka.committedOffsets(config.source.group_id, [this.partition.topic])).find(
      (c) => c.partition === this.partition.partition,
    );
    if (this.closed) throw new Error('closed while starting');
    // From here on synchronous: a batch is either skipped before the seek below, or processed.
    if (committed && committed.offset >= 0) {
      this.committedOffset = committed.offset;
      this.position = committed.offset;
      this.clock.restore(committed.metadata);
      // kafkajs may have started fetching from an older offset it read before the fence.
      this.consumer().seek({ ...this.partition, offset: committed.offset });
    } else if (this.skippedFrom >= 0) {
      this.consumer().seek({ ...this.partition, offset: this.skippedFrom });
    }
    this.initialised = true;
    this.log.debug({ partition: this.source, committed: committed?.offset, skippedFrom: this.skippedFrom }, 'stage-1 task took the partition over');
  }

  /** A batch that arrived while the task was starting; fetched again after the start's seek. */
  private skip(batch: SourceBatch): void {
    const first = batch.records[0]?.offset;
    // A superseded batch lies past where the predecessor seeked back to: not a place to restart from.
    if (first === undefined || batch.superseded()) return;
    if (this.skippedFrom < 0 || first < this.skippedFrom) this.skippedFrom = first;
  }

  private process(batch: SourceBatch): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    const { metrics, config } = this.deps;
    let counted = 0;
    for (const record of batch.records) {
      if (record.offset < this.committedOffset || record.offset < this.position) continue; // already handled
      counted++;
      if (this.firstOffset < 0) this.firstOffset = record.offset;
      this.position = record.offset + 1;
      this.quietSince = now;
      const ingested = this.batch;
      const refused = this.deps.ingest.ingestInto(record.value, record, ingested);
      if (refused !== undefined) {
        this.deadLetters.add(record, [refused]);
        continue;
      }
      // The batch's own array, new for each message that has rejections (almost none has).
      let rejected: Rejection[] | undefined = ingested.rejections;
      if (TAPPED.transform) tapIngested(config.name, ingested.entries());
      if (ingested.filtered > 0) this.deps.metrics.filtered.inc({ pipeline: config.name }, ingested.filtered);
      const { tenants, eventTimes, records } = ingested;
      for (let i = 0; i < ingested.count; i++) {
        const eventTimeMs = eventTimes[i]!;
        if (this.clock.isLate(eventTimeMs)) {
          (rejected ??= []).push(LATE);
          continue;
        }
        const rejection = this.preAggregator.add(tenants[i]!, eventTimeMs, records[i]!);
        if (rejection) (rejected ??= []).push(rejection);
        else this.clock.observe(eventTimeMs);
      }
      // One dead letter for the message, whatever number of its records were rejected.
      if (rejected !== undefined) this.deadLetters.add(record, rejected);
    }
    if (counted > 0) metrics.recordsIn.inc({ pipeline: config.name, topic: batch.topic }, counted);
    this.caughtUp = this.position >= batch.highWatermark;
  }

  /**
   * The partition's current ends (undefined: unreadable now, or read so slowly that the broker was
   * away meanwhile): lag, caught-up state and progress.
   */
  observeEnd(end: { low: number; high: number } | undefined): void {
    const { topic, partition } = this.partition;
    if (!end) {
      this.quietSince = this.deps.clock.now();
      this.deps.progress.observe('1', topic, partition, this.initialised ? this.position : undefined, undefined, this.deps.clock.now());
      return;
    }
    const position = this.position >= 0 ? this.position : this.deps.config.source.start_from === 'earliest' ? end.low : end.high;
    const lag = Math.max(0, end.high - position);
    this.deps.metrics.consumerLag.set({ pipeline: this.deps.config.name, topic, partition: String(partition) }, lag);
    this.caughtUp = lag === 0;
    this.deps.progress.observe('1', topic, partition, this.initialised ? position : undefined, end.high, this.deps.clock.now());
  }

  /** One transaction: partials, dead letters, markers and the source offset. */
  async flush(final: boolean): Promise<void> {
    if (this.closed || !this.producer) return;
    const now = this.deps.clock.now();
    this.lastFlushAt = now;
    const idle = !final && this.caughtUp && now - this.quietSince >= this.deps.config.window.idle_timeout;
    if (idle) this.clock.idleAt(now);
    const watermark = this.clock.watermark;
    const changed = !this.preAggregator.isEmpty || this.deadLetters.size > 0 || this.position > this.committedOffset;
    if (!changed && !this.worthAnnouncing(watermark, idle)) return;

    const { groups, partialsTopic, partialsPartitions, config } = this.deps;
    const messages: (OutgoingMessage & { topic: string })[] = [];
    // A few messages per stage-2 partition instead of one per partial: kafkajs and the broker
    // cost per message, and stage 2 applies a message's partials together, in order.
    let partials = 0;
    for (const partial of this.preAggregator.drain()) {
      if (TAPPED.partials) tapPartial(config.name, partial);
      this.outgoing[this.partitions.of(partial.key)]!.push(partial);
    }
    for (let p = 0; p < partialsPartitions; p++) {
      const outgoing = this.outgoing[p]!;
      if (outgoing.length === 0) continue;
      partials += outgoing.length;
      for (const value of encodePartials(outgoing, groups, { version: config.repartition.partials_wire })) messages.push({ topic: partialsTopic, partition: p, key: PARTIALS_KEY, value });
      outgoing.length = 0;
    }
    const marker = encodeMarker({ source: this.source, watermark, idle });
    for (let p = 0; p < partialsPartitions; p++) messages.push({ topic: partialsTopic, partition: p, key: MARKER_KEY, value: marker });
    const deadLetters = this.deadLetters.drain();
    for (const deadLetter of deadLetters.messages) messages.push(deadLetter);
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
      this.log.debug({ partition: this.source, from: this.committedOffset, to: offset, partials }, 'stage-1 transaction committed');
      if (offset !== undefined) this.committedOffset = offset;
      this.committed = true;
      this.announced = { watermark, idle };
      this.deadLetters.committed(deadLetters);
      this.deps.metrics.deadLetters(config.name, deadLetters.tally);
    } catch (error) {
      this.fail(error, deadLetters);
    }
  }

  /**
   * Whether a transaction with nothing but watermark markers is worth committing. An idle
   * partition's watermark follows the wall clock, but stage 2 only needs to hear of it when it
   * can fire a window: announcing each flush interval cost an idle pipeline a transaction per
   * partition per flush. Between announcements the watermark moves on in memory only, so records
   * are classified as before; the offset metadata (clock.serialize()) keeps the last announced
   * one, the one stage 2 knows, and a successor resumes from it as it would after a crash
   * between two flushes.
   */
  private worthAnnouncing(watermark: number, idle: boolean): boolean {
    const announced = this.announced;
    if (announced === undefined || announced.idle !== idle) return true;
    return watermarkMoveFires(this.deps.windowing, this.deps.config.window.allowed_lateness, announced.watermark, watermark);
  }

  /**
   * After a failed transaction: stop, point the consumer back at the last commit this task knows
   * of (so what it fetches next is what the successor needs; batches fetched before are
   * superseded), and hand over to a successor, which asks the broker what really committed.
   */
  private fail(error: unknown, deadLetters: DeadLetterBatch): void {
    const closing = this.closing.signal.aborted; // a new assignment replaces this task anyway
    this.closed = true;
    this.deadLetters.aborted(deadLetters, error);
    this.closing.abort();
    if (error instanceof FencedError) {
      this.log.warn({ partition: this.source }, 'stage-1 producer fenced: the partition moved to another instance, or the broker expired its transaction; re-joining the group');
    } else {
      this.log.warn({ err: error, partition: this.source }, 'stage-1 transaction failed; re-reading from the last commit with a new producer');
    }
    const from = this.committedOffset >= 0 ? this.committedOffset : this.firstOffset;
    if (from >= 0) this.consumer().seek({ ...this.partition, offset: from });
    void this.producer?.close().catch(() => {});
    this.producer = undefined;
    if (!closing) this.failed(this, error);
  }

  async receive(batch: SourceBatch): Promise<void> {
    if (!this.initialised) {
      // Never hold the consumer (and its heartbeats) while the task starts, which takes as long
      // as the broker is away: the task seeks back to what it skips once it knows where to start.
      this.skip(batch);
      return;
    }
    await this.serial.run(async () => {
      if (batch.superseded()) return; // fetched before the task (or its predecessor) seeked
      this.process(batch);
      if (this.deps.clock.now() - this.lastFlushAt >= this.deps.config.repartition.flush_interval || this.combinerFull) await this.flush(false);
    });
  }

  finish(): Promise<void> {
    return this.serial.run(() => this.flush(true));
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.serial.run(async () => {
      this.closed = true;
      await this.producer?.close().catch(() => {});
    });
  }
}

const LATE: Rejection = { reason: 'late', detail: 'older than its partition watermark minus allowed_lateness' };
