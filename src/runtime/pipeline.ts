import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelay, sleepUnlessAborted, unlessAborted, type BackoffPolicy } from '../core/backoff.ts';
import type { LoadedPipeline } from '../config/load.ts';
import type { MetricSink } from '../core/metric-model.ts';
import type { PipelineConfig } from '../config/schema.ts';
import { planMetrics, planWindowing } from '../operators/windowed-metrics/plan.ts';
import { KafkaUnavailableError, type KafkaClient } from '../sources/kafka/client.ts';
import { MemoryCheckpointStore, type CheckpointStore } from '../state/checkpoint-store.ts';
import { RedisCheckpointStore } from '../state/redis-checkpoint-store.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import { deadLetterTopicMaxBytes } from './dead-letter.ts';
import { Ingest } from './ingest.ts';
import { ProgressWatch, stallBoundMs, type StalledPartition } from './progress-watch.ts';
import { partialsTopic } from './repartition-codec.ts';
import { systemScheduler } from './scheduler.ts';
import { anomalyEventTopics } from '../sinks/anomaly-events/event-outbox.ts';
import { Stage1 } from './stage1.ts';
import { stateSeriesShare } from './series-share.ts';
import { Stage2 } from './stage2.ts';

/** Retries of the start's first Kafka calls while the cluster cannot be reached (each of which kafkajs itself retries for ~8 s). */
const KAFKA_START_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 10_000 };

/** Stage 2's checkpoint store as the pipeline configures it. */
export function openCheckpointStore(config: PipelineConfig): CheckpointStore {
  return config.state.backend === 'redis' ? new RedisCheckpointStore(config.state.redis_url!, config.name) : new MemoryCheckpointStore();
}

export interface PipelineDeps {
  readonly kafka: KafkaClient;
  readonly sink: MetricSink;
  readonly metrics: SluiceMetrics;
  readonly logger: Logger;
  /** Wall clock; injectable so tests can drive idleness. */
  readonly now?: () => number;
  /**
   * Stage 2's checkpoint store, when the process owns it: kept open across a reload that rebuilds
   * the stages (the embedded memory store holds the only copy of the state). Absent: the runner
   * opens one at start and closes it at stop.
   */
  readonly store?: CheckpointStore;
}

/**
 * One pipeline in this process: stage 1 on the source topics and stage 2 on the internal
 * partials topic, joined by that topic (DESIGN §1). Every instance runs both stages; instances
 * share the two consumer groups, so adding instances spreads both stages.
 */
export class PipelineRunner {
  readonly name: string;
  private readonly config: PipelineConfig;
  private stage1: Stage1 | undefined;
  private stage2: Stage2 | undefined;
  private store: CheckpointStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly progress: ProgressWatch;
  private readonly now: () => number;
  /** What stage 1 ingests with and stage 2 limits series by: swapped by a live reload. */
  private ingest: Ingest | undefined;
  private seriesShare: (tenant: string) => number;

  constructor(
    private readonly loaded: LoadedPipeline,
    private readonly deps: PipelineDeps,
  ) {
    this.config = loaded.config;
    this.name = loaded.config.name;
    this.log = deps.logger.child({ pipeline: this.name });
    this.now = deps.now ?? Date.now;
    this.progress = new ProgressWatch(this.name, stallBoundMs(this.config.source.session_timeout), deps.metrics, this.log);
    this.seriesShare = stateSeriesShare(this.config);
  }

  /**
   * Builds what a live reload swaps (decoder, transforms, tenant resolution, event time, series
   * shares) from `loaded`, throwing with nothing changed if it cannot; the returned commit swaps
   * them in between two batches. The stages and their state keep running.
   */
  prepareLive(loaded: LoadedPipeline): () => void {
    const ingest = new Ingest(loaded);
    const seriesShare = stateSeriesShare(loaded.config);
    return () => {
      this.ingest = ingest;
      this.seriesShare = seriesShare;
    };
  }

  /** True once both stages own their partitions, and while none of them is stalled (see ProgressWatch). */
  get ready(): boolean {
    return (this.stage1?.assigned ?? false) && (this.stage2?.assigned ?? false) && this.stalled().length === 0;
  }

  /** Owned partitions that have had records to read and made no progress for longer than the bound. */
  stalled(): StalledPartition[] {
    return this.progress.stalled(this.now());
  }

  /** Starts both stages; `signal` aborts waiting for source topics (a shutdown during start). */
  async start(signal?: AbortSignal): Promise<void> {
    const { kafka, metrics, sink } = this.deps;
    const config = this.config;
    const topic = partialsTopic(config.name);
    const partitions = await this.untilKafkaAnswers(signal, async () => {
      await kafka.ensureTopics([
        // The dead-letter topic takes the pipeline's largest message with its headers, so writing a dead letter cannot fail as too large.
        { topic: config.dead_letter.topic, partitions: 1, minMaxMessageBytes: deadLetterTopicMaxBytes(config.source.max_message_bytes) },
        { topic, partitions: config.repartition.partitions },
        ...anomalyEventTopics(config).map((events) => ({ topic: events, partitions: 1 })),
      ]);
      return kafka.partitionCount(topic);
    });
    metrics.deadLetterUnwritable.inc({ pipeline: config.name }, 0); // present from the start, for alerts on any increase
    if (partitions !== config.repartition.partitions) {
      throw new Error(`${topic} has ${partitions} partitions but repartition.partitions is ${config.repartition.partitions}; series would move between stage-2 tasks`);
    }
    const sources: string[] = [];
    for (const source of config.source.topics) {
      const count = await this.awaitTopic(source, signal);
      for (let p = 0; p < count; p++) sources.push(`${source}/${p}`);
    }
    const groups = planMetrics(config.metrics);
    const windowing = planWindowing(config.window);
    const now = this.now;
    const clock = systemScheduler(now);
    const progress = this.progress;
    const sessionTimeoutMs = config.source.session_timeout;
    this.store = this.deps.store ?? openCheckpointStore(config);
    const seriesShare = (tenant: string) => this.seriesShare(tenant);
    this.stage2 = new Stage2({ config, groups, windowing, kafka, sink, store: this.store, metrics, logger: this.log, partialsTopic: topic, sources, sessionTimeoutMs, progress, clock, seriesShare });
    this.ingest ??= new Ingest(this.loaded);
    this.stage1 = new Stage1({
      config,
      groups,
      windowing,
      ingest: { ingestInto: (value, context, batch) => this.ingest!.ingestInto(value, context, batch) },
      kafka,
      metrics,
      logger: this.log,
      partialsTopic: topic,
      partialsPartitions: partitions,
      clock,
      sessionTimeoutMs,
      progress,
    });
    // Both groups joined at once: each join of a group that already has busy members waits out
    // their rebalance (5-6 s each on the bench), and a stage 1 joining only once stage 2 was
    // assigned made a new instance wait for two in a row (11 s). Both settle before an error
    // is thrown, so the caller's stop() finds neither stage half started.
    const started = await Promise.allSettled([this.stage2.start(), this.stage1.start()]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    this.timer = setInterval(() => this.report(now()), 1_000);
    this.log.info({ topics: config.source.topics, partials: topic, tenants: Object.keys(config.tenants.tenants), default_route: config.tenants.default_route !== undefined }, 'pipeline started');
  }

  /**
   * `work` again, with backoff, for as long as Kafka cannot be reached (a broker still starting, or
   * down): the process waits, not ready, as it does through an outage once running, instead of
   * exiting at start. Any other failure (a refusal, a config problem) ends the start as before.
   */
  private async untilKafkaAnswers<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await unlessAborted(work(), signal);
      } catch (error) {
        if (!(error instanceof KafkaUnavailableError)) throw error;
        if (attempt === 1 || attempt % 10 === 0) this.log.warn({ err: error.message, attempt }, 'Kafka cannot be reached; the pipeline starts once it can');
        await sleepUnlessAborted(backoffDelay(KAFKA_START_BACKOFF, attempt, undefined, Math.random), signal);
      }
    }
  }

  /**
   * The partition count of a source topic, waiting for the topic to exist: producers often create
   * their topics (as the demo and docker-compose ones do), and stage 2 must know every source
   * partition before its watermark can move.
   */
  private async awaitTopic(topic: string, signal: AbortSignal | undefined): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const count = await unlessAborted(this.deps.kafka.partitionCount(topic).catch(() => 0), signal);
      if (count > 0) return count;
      if (attempt % 10 === 0) this.log.warn({ topic }, 'waiting for source topic to exist');
      await sleep(1_000, undefined, { signal });
    }
  }

  /**
   * Stops both stages: stage 1 commits what it has, stage 2 writes a last checkpoint. The two are
   * independent and each first waits for its consumer's fetch in flight, so they stop together.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const stages = await Promise.allSettled([this.stage1?.stop(), this.stage2?.stop()]);
    if (this.deps.store === undefined) await this.store?.close();
    stages.forEach((result, i) => {
      if (result.status === 'rejected') this.log.error({ err: result.reason, stage: i + 1 }, 'stage did not stop cleanly');
    });
    this.log.info('pipeline stopped');
  }

  private report(now: number): void {
    const { metrics } = this.deps;
    const watermark = this.stage2?.watermark ?? Number.NEGATIVE_INFINITY;
    if (Number.isFinite(watermark)) metrics.watermarkDelay.set({ pipeline: this.name }, (now - watermark) / 1000);
    metrics.activeSeries.set({ pipeline: this.name }, this.stage2?.seriesCount ?? 0);
  }
}
