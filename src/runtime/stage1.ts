import type { Logger } from 'pino';
import type { PipelineConfig } from '../config/schema.ts';
import type { SeriesGroupPlan, Windowing } from '../operators/windowed-metrics/plan.ts';
import { backoffDelay } from '../core/backoff.ts';
import { FencedError, type KafkaClient, type PartitionEnds, type TopicPartition } from '../sources/kafka/client.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import type { Ingest } from './ingest.ts';
import { keyOf, PartitionHost } from './partition-host.ts';
import type { ProgressWatch } from './progress-watch.ts';
import type { Scheduler } from './scheduler.ts';
import { SourceTask, TASK_RESTART_BACKOFF, type TaskRestart } from './source-task.ts';

/** Reading the partition ends takes milliseconds; one that took longer spanned a broker outage. */
const STALLED_READ_MS = 2_000;


export interface Stage1Deps {
  readonly config: PipelineConfig;
  readonly groups: readonly SeriesGroupPlan[];
  readonly windowing: Windowing;
  /** The decode → transform → tenant → event-time front; a reload may swap what is behind it between batches. */
  readonly ingest: Pick<Ingest, 'ingestInto'>;
  readonly kafka: KafkaClient;
  readonly metrics: SluiceMetrics;
  readonly logger: Logger;
  readonly partialsTopic: string;
  readonly partialsPartitions: number;
  /** Wall clock, punctuations, sleeps and jitter (a manual one in unit tests). */
  readonly clock: Scheduler;
  readonly sessionTimeoutMs?: number;
  readonly progress: ProgressWatch;
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
 *
 * A transaction that fails (broker gone, coordinator moving, producer in a bad state) leaves its
 * outcome unknown. The task is then replaced, after a backoff, by a new one that starts like a
 * newly assigned task: a new producer (which completes or aborts what the old one left open), the
 * committed offset and clock, and a seek there. So it never re-reads from a guess, and never
 * stays stuck, for as long as the broker takes to come back.
 */
export class Stage1 {
  private readonly host: PartitionHost<SourceTask>;
  private readonly log: Logger;
  /** Partition ends could not be read at the last tick (logged once per outage). */
  private endsUnreadable = false;

  constructor(private readonly deps: Stage1Deps) {
    this.log = deps.logger.child({ stage: 1 });
    const { config } = deps;
    this.host = new PartitionHost({
      stage: '1',
      kafka: deps.kafka,
      groupId: config.source.group_id,
      topics: config.source.topics,
      fromBeginning: config.source.start_from === 'earliest',
      ...(deps.sessionTimeoutMs ? { sessionTimeoutMs: deps.sessionTimeoutMs } : {}),
      clock: deps.clock,
      log: this.log,
      progress: deps.progress,
      tickIntervalMs: Math.min(config.repartition.flush_interval, 1_000),
      createTask: (partition) => this.newTask(partition),
      tick: () => this.tick(),
      onRestart: () => deps.metrics.kafkaClientRestarts.inc({ pipeline: config.name, client: 'stage1-consumer' }),
    });
  }

  get assigned(): boolean {
    return this.host.assigned;
  }

  start(): Promise<void> {
    return this.host.start();
  }

  /** Stops consuming, commits what every task holds, and closes the tasks. */
  stop(): Promise<void> {
    return this.host.stop();
  }

  private newTask(partition: TopicPartition, restart?: TaskRestart): SourceTask {
    return new SourceTask(partition, this.deps, this.log, () => this.host.consumer, (task, error) => this.replace(task, error), restart);
  }

  /**
   * Replaces a task whose transaction failed by a new one that starts from the last commit after
   * a backoff (growing while its successors fail too). A fenced task is not replaced: its
   * partition probably moved to another instance, and a successor here would fence the new owner
   * back and announce watermarks for records this consumer no longer reads. Instead the member
   * re-joins its group: the assignment that follows says who owns what (the partition comes back
   * if the broker merely expired our transaction, which fences too).
   */
  private replace(failed: SourceTask, error: unknown): void {
    if (!this.host.isCurrent(failed)) return; // unassigned or replaced meanwhile
    if (error instanceof FencedError) {
      this.host.rejoin('a stage-1 producer was fenced');
      return;
    }
    const attempt = failed.committed ? 1 : failed.attempt + 1;
    const delayMs = backoffDelay(TASK_RESTART_BACKOFF, attempt, undefined, this.deps.clock.random);
    this.deps.metrics.kafkaClientRestarts.inc({ pipeline: this.deps.config.name, client: 'stage1-producer' });
    this.host.replace(failed, () => this.newTask(failed.partition, { attempt, delayMs, deadLetters: failed.deadLetters }));
  }

  private async tick(): Promise<void> {
    if (this.host.taskCount === 0) return;
    const ends = new Map<string, PartitionEnds>();
    const askedAt = this.deps.clock.now();
    try {
      const read = await this.deps.kafka.partitionEnds(this.deps.config.source.topics);
      // kafkajs retries through a short broker restart: a late answer covers time it could not see.
      if (this.deps.clock.now() - askedAt <= STALLED_READ_MS) for (const end of read) ends.set(keyOf(end), end);
      if (this.endsUnreadable) this.log.info('partition ends readable again');
      this.endsUnreadable = false;
    } catch (error) {
      if (!this.endsUnreadable) this.log.warn({ err: error }, 'could not read partition ends');
      this.endsUnreadable = true;
    }
    // The current tasks: some may have been replaced while the ends were read.
    for (const task of this.host.tasks()) task.observeEnd(ends.get(keyOf(task.partition)));
    for (const task of this.host.tasks()) {
      if (!task.initialised || this.deps.clock.now() - task.lastFlushAt < this.deps.config.repartition.flush_interval) continue;
      void task.serial.run(() => task.flush(false));
    }
  }
}
