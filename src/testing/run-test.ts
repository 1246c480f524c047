import type { DeadLetterReason, Rejection } from '../core/dead-letter-reason.ts';
import type { Sample } from '../core/types.ts';
import type { LoadedPipeline } from '../config/load.ts';
import type { PipelineConfig } from '../config/schema.ts';
import type { PartialAggregate } from '../operators/windowed-metrics/partial.ts';
import { planMetrics, planWindowing, type SeriesGroupPlan, type Windowing } from '../operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../operators/windowed-metrics/pre-aggregator.ts';
import { taskShare } from '../operators/windowed-metrics/series-budget.ts';
import { WindowMerger } from '../operators/windowed-metrics/window-merger.ts';
import { Ingest } from '../runtime/ingest.ts';
import { PartitionClock } from '../runtime/partition-clock.ts';
import { decodePartial, encodePartial, partitionOfSeries } from '../runtime/repartition-codec.ts';
import { DEFAULT_MAX_STATE_SERIES } from '../tenancy/config.ts';
import type { PipelineTest } from './config.ts';
import { InputEncoder, InputError } from './encode-input.ts';

/** One dead-lettered input message: which one, and every reason its records were refused for. */
export interface ObservedDeadLetter {
  readonly input: number;
  readonly reasons: readonly DeadLetterReason[];
}

/** What a pipeline produced for a test's inputs once every window closed. */
export interface TestOutput {
  readonly samples: ReadonlyMap<string, readonly Sample[]>;
  readonly deadLetters: readonly ObservedDeadLetter[];
}

/** Everything built once per pipeline file and shared by its tests. */
export interface TestPipeline {
  readonly config: PipelineConfig;
  readonly ingest: Ingest;
  readonly encoder: InputEncoder;
  readonly groups: readonly SeriesGroupPlan[];
  readonly windowing: Windowing;
}

export function buildTestPipeline(loaded: LoadedPipeline): TestPipeline {
  const { config } = loaded;
  return {
    config,
    ingest: new Ingest(loaded),
    encoder: new InputEncoder(config.decode, loaded.baseDir),
    groups: planMetrics(config.metrics),
    windowing: planWindowing(config.window),
  };
}

/** One source partition as stage 1 holds it: its watermark clock and its combiner. */
interface SourceState {
  readonly clock: PartitionClock;
  readonly combiner: PreAggregator;
}

/**
 * Runs one test offline, in process, through the production code of both stages: Ingest
 * (decode, transforms, tenant, event time), each source partition's PartitionClock (lateness)
 * and PreAggregator, the repartition codec (every partial is encoded and decoded as the
 * internal topic carries it), and one WindowMerger per stage-2 partition with the options stage
 * 2 gives it. After each input message stage 1 "flushes" and announces its watermark, as a
 * transaction would; after the last, the watermark moves just past the last window, so every
 * window with data fires once and nothing expires that would not have in production by then.
 *
 * Throws InputError for an input that cannot be encoded for the pipeline's codec.
 */
export function runPipelineTest(pipeline: TestPipeline, test: PipelineTest): TestOutput {
  const { config, groups, windowing } = pipeline;
  const samples = new Map<string, Sample[]>();
  const emitter = {
    emit(tenant: string, emitted: Sample[]) {
      const list = samples.get(tenant);
      if (list) list.push(...emitted);
      else samples.set(tenant, [...emitted]);
    },
  };
  const share = seriesShare(config);
  const mergers = Array.from(
    { length: config.repartition.partitions },
    (_, partition) => new WindowMerger(groups, windowing, { allowedLatenessMs: config.window.allowed_lateness, expireAfterMs: config.series.expire_after, seriesBudget: share, partition }, emitter),
  );

  const sourceKeys = test.inputs.map((input, index) => `${topicOf(config, input.topic, index)}/${input.partition}`);
  const sources = new Map<string, SourceState>();
  for (const key of sourceKeys) {
    if (sources.has(key)) continue;
    const clock = new PartitionClock({ maxOutOfOrdernessMs: config.window.max_out_of_orderness, allowedLatenessMs: config.window.allowed_lateness });
    sources.set(key, { clock, combiner: new PreAggregator(groups, windowing) });
  }

  const deadLetters: ObservedDeadLetter[] = [];
  let lastClose = Number.NEGATIVE_INFINITY;
  test.inputs.forEach((input, index) => {
    const source = sources.get(sourceKeys[index]!)!;
    const value = pipeline.encoder.encode(input);
    const context = { key: input.key === undefined ? null : Buffer.from(input.key, 'utf8'), headers: input.headers };
    const rejected = ingestMessage(pipeline.ingest, source, value, context);
    if (rejected.length > 0) deadLetters.push({ input: index, reasons: [...new Set(rejected.map((r) => r.reason))] });
    for (const partial of source.combiner.drain()) {
      const key = partial.key;
      const wire = encodePartial(partial, groups);
      const merger = mergers[partitionOfSeries(key, mergers.length)]!;
      if (merger.addPartial(decodePartial(key, wire, groups)) === 'late') throw new Error(`partial of window ending ${partial.end} arrived after it fired`);
      lastClose = Math.max(lastClose, closeOf(partial, windowing));
    }
    const watermark = Math.min(...[...sources.values()].map((s) => s.clock.watermark));
    for (const merger of mergers) merger.advanceWatermark(watermark);
  });
  if (Number.isFinite(lastClose)) {
    for (const merger of mergers) merger.advanceWatermark(lastClose + config.window.allowed_lateness);
  }
  return { samples, deadLetters };
}

/** Stage 1's per-message step (see Stage1's SourceTask.process): what it rejects, one dead letter's worth. */
function ingestMessage(ingest: Ingest, source: SourceState, value: Buffer, context: { key: Buffer | null; headers: Record<string, string> }): Rejection[] {
  const message = ingest.ingest(value, context);
  if ('reason' in message) return [message];
  const rejected: Rejection[] = [...message.rejections];
  for (const { tenant, eventTimeMs, record } of message.records) {
    if (source.clock.isLate(eventTimeMs)) {
      rejected.push({ reason: 'late', detail: 'older than its partition watermark minus allowed_lateness' });
      continue;
    }
    const rejection = source.combiner.add(tenant, eventTimeMs, record);
    if (rejection) rejected.push(rejection);
    else source.clock.observe(eventTimeMs);
  }
  return rejected;
}

/** When the last window holding this partial ends (before allowed lateness). */
function closeOf(partial: PartialAggregate, windowing: Windowing): number {
  if (windowing.kind === 'session') return partial.end + windowing.gapMs;
  return partial.start + windowing.sizeMs; // a pane's last window starts where the pane starts
}

function topicOf(config: PipelineConfig, topic: string | undefined, index: number): string {
  const topics = config.source.topics;
  if (topic === undefined) {
    if (topics.length === 1) return topics[0]!;
    throw new InputError(`input ${index} names no topic, and the pipeline reads ${topics.length} (${topics.join(', ')})`);
  }
  if (!topics.includes(topic)) throw new InputError(`input ${index}: topic ${topic} is not one of source.topics (${topics.join(', ')})`);
  return topic;
}

/** Per tenant, the share of its state-series limit one stage-2 partition enforces (as stage 2 computes it). */
function seriesShare(config: PipelineConfig): (tenant: string) => number {
  const { tenants, default_route: route } = config.tenants;
  return (tenant) => {
    const limits = Object.hasOwn(tenants, tenant) ? tenants[tenant]!.limits : route?.limits;
    return taskShare(limits?.max_state_series ?? DEFAULT_MAX_STATE_SERIES, config.repartition.partitions);
  };
}
