import type { Logger } from 'pino';
import type { PipelineConfig } from '../config/schema.ts';
import type { SeriesGroupPlan, Windowing } from '../operators/windowed-metrics/plan.ts';
import type { MetricSink } from '../core/metric-model.ts';
import type { KafkaClient, PartitionEnds } from '../sources/kafka/client.ts';
import type { CheckpointStore } from '../state/checkpoint-store.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import type { CatchUpBounds } from './catch-up.ts';
import { PartialsTask } from './partials-task.ts';
import { PartitionHost } from './partition-host.ts';
import type { ProgressWatch } from './progress-watch.ts';
import type { Scheduler } from './scheduler.ts';

export interface Stage2Deps {
  readonly config: PipelineConfig;
  readonly groups: readonly SeriesGroupPlan[];
  readonly windowing: Windowing;
  readonly kafka: KafkaClient;
  readonly sink: MetricSink;
  readonly store: CheckpointStore;
  readonly metrics: SluiceMetrics;
  readonly logger: Logger;
  readonly partialsTopic: string;
  /** Every source partition (`topic/partition`) whose watermark stage 2 must hear from. */
  readonly sources: readonly string[];
  readonly sessionTimeoutMs?: number;
  readonly progress: ProgressWatch;
  /** Wall clock, punctuations and sleeps (a manual one in unit tests). */
  readonly clock: Scheduler;
  /** Per tenant, the share of its max_state_series a task enforces (default: from `config`; a reload swaps it). */
  readonly seriesShare?: (tenant: string) => number;
  /** How a watermark jump fires its windows (default CATCH_UP; tests make it wait on every window). */
  readonly catchUp?: CatchUpBounds;
}

/** Stage 2 reads its partitions' ends for the progress watch at most this often. */
const ENDS_INTERVAL_MS = 1_000;

/**
 * Stage 2 of a pipeline, one task per partition of the internal partials topic (read
 * committed): merge partials, track the watermark of every source partition, fire windows,
 * and hand samples to the tenant sink through a checkpointed outbox.
 *
 * A task's state, its input offset and its outbox are checkpointed together in one atomic,
 * epoch-fenced write; on assignment a task restores its checkpoint and continues from the
 * stored offset, so a crash, restart or rebalance reproduces exactly the same samples.
 */
export class Stage2 {
  private readonly host: PartitionHost<PartialsTask>;
  private readonly log: Logger;
  private endsReadAt = 0;

  constructor(private readonly deps: Stage2Deps) {
    this.log = deps.logger.child({ stage: 2 });
    deps.metrics.partialsSkipped.inc({ pipeline: deps.config.name }, 0); // present from the start, for alerts on any increase
    this.host = new PartitionHost({
      stage: '2',
      kafka: deps.kafka,
      groupId: `${deps.config.source.group_id}.stage2`,
      topics: [deps.partialsTopic],
      fromBeginning: true,
      ...(deps.sessionTimeoutMs ? { sessionTimeoutMs: deps.sessionTimeoutMs } : {}),
      clock: deps.clock,
      log: this.log,
      progress: deps.progress,
      tickIntervalMs: deps.config.state.checkpoint_interval,
      createTask: ({ partition }) => new PartialsTask(partition, this.deps, this.log, () => this.host.consumer),
      tick: () => this.tick(),
      onRestart: () => deps.metrics.kafkaClientRestarts.inc({ pipeline: deps.config.name, client: 'stage2-consumer' }),
    });
  }

  get assigned(): boolean {
    return this.host.assigned;
  }

  start(): Promise<void> {
    return this.host.start();
  }

  /** Stops consuming, writes a last checkpoint per task, and closes the tasks. */
  stop(): Promise<void> {
    return this.host.stop();
  }

  get seriesCount(): number {
    let count = 0;
    for (const task of this.host.tasks()) count += task.seriesCount;
    return count;
  }

  /** The lowest watermark over owned partitions, for the watermark-delay gauge. */
  get watermark(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const task of this.host.tasks()) min = Math.min(min, task.watermark);
    return min;
  }

  private async tick(): Promise<void> {
    const tasks = [...this.host.tasks()];
    for (const task of tasks) void task.serial.run(() => task.checkpoint());
    this.deps.metrics.pausedPartitions.set({ pipeline: this.deps.config.name }, tasks.filter((t) => t.paused).length);
    await this.watchProgress(tasks);
  }

  /** Feeds the progress watch (a paused partition with input waiting counts as not progressing). */
  private async watchProgress(tasks: readonly PartialsTask[]): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.endsReadAt < ENDS_INTERVAL_MS || tasks.length === 0) return;
    this.endsReadAt = now;
    let ends: PartitionEnds[] = [];
    try {
      ends = await this.deps.kafka.partitionEnds([this.deps.partialsTopic]);
    } catch {
      // the broker is away: the last known ends stand (stage 1 logs this)
    }
    const byPartition = new Map(ends.map((e) => [e.partition, e.high]));
    for (const task of this.host.tasks()) {
      this.deps.progress.observe('2', this.deps.partialsTopic, task.index, task.position, byPartition.get(task.index), this.deps.clock.now());
    }
  }
}
