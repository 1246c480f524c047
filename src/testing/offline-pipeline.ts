import type { Rejection } from '../core/dead-letter-reason.ts';
import type { LoadedPipeline } from '../config/load.ts';
import type { PipelineConfig } from '../config/schema.ts';
import type { DecodeContext } from '../codecs/decoder.ts';
import type { PartialAggregate } from '../operators/windowed-metrics/partial.ts';
import { planMetrics, planWindowing, type SeriesGroupPlan, type Windowing } from '../operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../operators/windowed-metrics/window-merger.ts';
import { SampleFlattener } from '../sinks/prometheus/flatten.ts';
import type { MetricPoint } from '../core/metric-model.ts';
import type { Sample } from '../core/types.ts';
import { Ingest } from '../runtime/ingest.ts';
import { PartitionClock } from '../runtime/partition-clock.ts';
import { decodePartial, encodePartial, partitionOfSeries } from '../runtime/repartition-codec.ts';
import { stateSeriesShare } from '../runtime/series-share.ts';

/** What is built once per pipeline file: its ingest, metric plans and windowing. */
export interface PipelineParts {
  readonly config: PipelineConfig;
  readonly ingest: Ingest;
  readonly groups: readonly SeriesGroupPlan[];
  readonly windowing: Windowing;
}

export function buildPipelineParts(loaded: LoadedPipeline): PipelineParts {
  return { config: loaded.config, ingest: new Ingest(loaded), groups: planMetrics(loaded.config.metrics), windowing: planWindowing(loaded.config.window) };
}

/** One source partition as stage 1 holds it: its watermark clock and its combiner. */
interface SourceState {
  readonly clock: PartitionClock;
  readonly combiner: PreAggregator;
}

/** Where an offline run's output goes: Prometheus samples per tenant. */
export interface SampleEmitter {
  emit(tenant: string, samples: Sample[]): void;
}

/**
 * A pipeline run in process with no Kafka, through the production code of both stages: Ingest
 * (decode, transforms, tenant, event time), each source partition's PartitionClock (lateness)
 * and PreAggregator, the repartition codec (every partial is encoded and decoded as the internal
 * topic carries it), and one WindowMerger per stage-2 partition with the options stage 2 gives
 * it. `flush` plays a stage-1 transaction: partials go to their stage-2 partition and the
 * combined watermark moves on; `finish` moves it just past the last window with data, so every
 * such window fires once and nothing expires that would not have by then in production.
 * Used by `sluice test` and `sluice replay --dry-run`.
 */
export class OfflinePipeline {
  private readonly sources = new Map<string, SourceState>();
  private readonly mergers: WindowMerger[];
  private lastClose = Number.NEGATIVE_INFINITY;

  /** `sources`: every source partition (`topic/partition`) that feeds it; each holds the watermark until heard from. */
  constructor(
    private readonly parts: PipelineParts,
    sources: Iterable<string>,
    emitter: SampleEmitter,
  ) {
    const { config, groups, windowing } = parts;
    const window = config.window;
    for (const source of sources) {
      if (this.sources.has(source)) continue;
      const clock = new PartitionClock({ maxOutOfOrdernessMs: window.max_out_of_orderness, allowedLatenessMs: window.allowed_lateness });
      this.sources.set(source, { clock, combiner: new PreAggregator(groups, windowing) });
    }
    const options = { allowedLatenessMs: window.allowed_lateness, expireAfterMs: config.series.expire_after, seriesBudget: stateSeriesShare(config) };
    // Tests and dry runs speak Prometheus series (what a remote-write receiver stores): stage 2's points, flattened.
    const flattener = new SampleFlattener();
    const flattened = { emit: (tenant: string, points: MetricPoint[]) => emitter.emit(tenant, flattener.flatten(points)) };
    this.mergers = Array.from({ length: config.repartition.partitions }, (_, partition) => new WindowMerger(groups, windowing, { ...options, partition }, flattened));
  }

  /** Stage 1's per-message step (as Stage1's SourceTask.process): the rejections that make one dead letter. */
  add(source: string, value: Buffer | null, context: DecodeContext): Rejection[] {
    const state = this.sourceState(source);
    const message = this.parts.ingest.ingest(value, context);
    if ('reason' in message) return [message];
    const rejected: Rejection[] = [...message.rejections];
    for (const { tenant, eventTimeMs, record } of message.records) {
      if (state.clock.isLate(eventTimeMs)) {
        rejected.push(LATE);
        continue;
      }
      const rejection = state.combiner.add(tenant, eventTimeMs, record);
      if (rejection) rejected.push(rejection);
      else state.clock.observe(eventTimeMs);
    }
    return rejected;
  }

  /** A stage-1 transaction of `source`: its partials through the codec to stage 2, then the watermark. */
  flush(source: string): void {
    const { groups, windowing } = this.parts;
    for (const partial of this.sourceState(source).combiner.drain()) {
      const wire = encodePartial(partial, groups);
      const merger = this.mergers[partitionOfSeries(partial.key, this.mergers.length)]!;
      if (merger.addPartial(decodePartial(partial.key, wire, groups)) === 'late') throw new Error(`a partial of the window ending ${partial.end} arrived after it fired`);
      this.lastClose = Math.max(this.lastClose, closeOf(partial, windowing));
    }
    let watermark = Number.POSITIVE_INFINITY;
    for (const state of this.sources.values()) watermark = Math.min(watermark, state.clock.watermark);
    for (const merger of this.mergers) merger.advanceWatermark(watermark);
  }

  /** Flushes every source, then closes every window that has data. */
  finish(): void {
    for (const source of this.sources.keys()) this.flush(source);
    if (!Number.isFinite(this.lastClose)) return;
    for (const merger of this.mergers) merger.advanceWatermark(this.lastClose + this.parts.config.window.allowed_lateness);
  }

  private sourceState(source: string): SourceState {
    const state = this.sources.get(source);
    if (!state) throw new Error(`${source} is not a source of this run`);
    return state;
  }
}

const LATE: Rejection = { reason: 'late', detail: 'older than its partition watermark minus allowed_lateness' };

/** When the last window holding this partial ends (before allowed lateness). */
function closeOf(partial: PartialAggregate, windowing: Windowing): number {
  if (windowing.kind === 'session') return partial.end + windowing.gapMs;
  return partial.start + windowing.sizeMs; // a pane's last window starts where the pane starts
}
