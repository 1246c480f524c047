/**
 * The `anomaly` metric kind: one online detector per series over another metric's per-window
 * value (p95 latency, an error ratio, tokens/s, GPU utilisation, ...). Each window the input
 * emitted a value for, the detector scores it (O(1) time and memory) and learns it; the kind
 * emits the score in [0, 1] as `<name>`, a running `<name>_events_total`, and, when the score
 * reaches the threshold, an anomaly event into the stage-2 flow. The detector is deterministic
 * and its state is part of the series' state in the checkpoint, so a replay gives the same scores.
 */
import { z } from 'zod';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, SKIP, type Aggregator, type MetricAbout, type PointTarget } from '../aggregations/aggregator.ts';
import { defineKind, labelsSchema, METRIC_NAME, staticLabelsSchema, unitSchema } from '../aggregations/kind.ts';
import { isSeriesStateful, type SeriesStatefulAggregator, type SeriesStateParts, type WindowContext } from '../aggregations/series-state.ts';
import { anomalyConfigSchema, type AnomalyConfig } from './config.ts';
import { AnomalyDetector } from './detector.ts';
import { DetectorModel, type PointScratch } from './detector-model.ts';

export interface AnomalyMetricOptions {
  readonly name: string;
  readonly input: string;
  /** Labels the input point must carry; `quantile` may also pick a quantile of a summary point (e.g. 0.95). */
  readonly inputLabels: Readonly<Record<string, string>>;
  readonly detector: AnomalyConfig;
  readonly eventsTopic?: string;
}

interface AnomalySeries {
  readonly detector: AnomalyDetector;
  events: number;
}

/**
 * A series' detector state as bytes (every double exact, NaN included) and its event count: the
 * whole state, or in an incremental checkpoint the replay log (marked by a third element, LOG),
 * the base being an entry of its own; HOT marks the incremental form before the log (hot slots
 * and changed cells), still read.
 */
type AnomalyWire = [Uint8Array, number] | [Uint8Array, number, typeof HOT | typeof LOG];
const HOT = 1;
const LOG = 2;

export class AnomalyAggregator implements SeriesStatefulAggregator<null, AnomalySeries> {
  readonly cumulative = false;
  readonly seriesState = true;
  readonly name: string;
  /** Bound by the plan to the input metric's index in the series group. */
  inputIndex: number | undefined;
  private readonly inputLabels: readonly Label[];
  /**
   * The `quantile` input label as a number, if JavaScript writes that number so (a summary's
   * quantile q matches when String(q) equals the label); NaN, which matches nothing, otherwise.
   */
  private readonly wantedQuantile: number;
  /** The detector's layout and parameters, shared by every series' detector. */
  private readonly model: DetectorModel;
  /** The point being emitted (one per aggregator: a window's series are emitted one at a time). */
  private readonly point: PointScratch = { score: 0, lower: 0, upper: 0, anomalous: false };
  /** The score gauge `<name>` and the running count of events `<name>_events_total`. */
  private readonly score: MetricDescriptor;
  private readonly events: MetricDescriptor;

  constructor(
    readonly options: AnomalyMetricOptions,
    about: MetricAbout = {},
  ) {
    this.name = options.name;
    this.inputLabels = Object.entries(options.inputLabels).map(([name, value]) => ({ name, value }));
    this.model = new DetectorModel(options.detector);
    const quantile = options.inputLabels.quantile;
    this.wantedQuantile = quantile !== undefined && String(Number(quantile)) === quantile ? Number(quantile) : Number.NaN;
    this.score = describeMetric(options.name, 'gauge', about);
    this.events = describeMetric(`${options.name}_events_total`, 'counter', { help: 'Anomaly events (windows whose score reached the threshold).' });
  }

  /** It reads no records: its input is another metric's window value. */
  read(): typeof SKIP {
    return SKIP;
  }

  create(): null {
    return null;
  }

  add(): void {}

  merge(): void {}

  encode(): unknown {
    return null;
  }

  decode(): null {
    return null;
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return [
      { metric: this.score, labels: base },
      { metric: this.events, labels: base },
    ];
  }

  emit(): void {}

  createSeriesState(): AnomalySeries {
    return { detector: new AnomalyDetector(this.model), events: 0 };
  }

  /**
   * The detector's state bytes as they are (no copy: a checkpoint writes them at once, and a series
   * changes once per window while its ~10 KB state would otherwise be copied out per write).
   */
  encodeSeriesState(state: AnomalySeries): AnomalyWire {
    return [state.detector.bytes, state.events];
  }

  decodeSeriesState(wire: unknown): AnomalySeries {
    const [bytes, events, form] = wire as AnomalyWire;
    if (form === LOG) return { detector: AnomalyDetector.restoreLog(bytes, this.model), events };
    if (form === HOT) return { detector: AnomalyDetector.restoreHot(bytes, this.model), events };
    // Copy into an aligned buffer: a decoded Uint8Array may sit at any offset of a larger one.
    const snapshot = new Float64Array(bytes.byteLength / 8);
    new Uint8Array(snapshot.buffer).set(bytes);
    // Restored whole (a full snapshot, or a checkpoint from before parts): the base is written at the next checkpoint.
    return { detector: AnomalyDetector.restore(snapshot, this.model), events };
  }

  /**
   * In an incremental checkpoint, the series' entry holds the replay log, the points since the
   * base (8 B + 16 B a point), and the base (the whole state, ~10 KB) is an entry of its own,
   * rewritten every 32 points (detector.ts).
   */
  readonly stateParts: SeriesStateParts<AnomalySeries> = {
    encodeMain: (state) => [state.detector.logBytes(), state.events, LOG] satisfies AnomalyWire,
    count: (state) => state.detector.pageCount,
    changed: (state, all, put) => state.detector.changedPages(all, put),
    restore: (state, page, wire) => state.detector.restorePage(page, wire as Uint8Array),
  };

  emitWindow(_acc: null | undefined, state: AnomalySeries, from: number, to: number, targets: readonly PointTarget[], ctx: WindowContext, out: MetricPoint[]): boolean {
    const value = this.pick(out, from, to);
    if (value === undefined || !Number.isFinite(value)) return false;
    const point = this.point;
    state.detector.updateInto(value, ctx.windowEndMs, point);
    if (point.anomalous) {
      state.events++;
      ctx.event({
        metric: this.name,
        tenant: ctx.tenant,
        seriesKey: ctx.seriesKey,
        labels: targets[0]!.labels,
        windowStartMs: ctx.windowStartMs,
        windowEndMs: ctx.windowEndMs,
        score: point.score,
        value,
        expectedLower: point.lower,
        expectedUpper: point.upper,
        threshold: this.options.detector.threshold,
        ...(this.options.eventsTopic !== undefined ? { topic: this.options.eventsTopic } : {}),
      });
    }
    const score = targets[0]!;
    const events = targets[1]!;
    out.push({ metric: score.metric, labels: score.labels, timestampMs: ctx.windowEndMs, value: point.score });
    out.push({ metric: events.metric, labels: events.labels, timestampMs: ctx.windowEndMs, startTimestampMs: ctx.seriesStartMs, value: state.events });
    return true;
  }

  /** The input's value this window: the first of its points carrying the input labels. */
  private pick(out: readonly MetricPoint[], from: number, to: number): number | undefined {
    for (let i = from; i < to; i++) {
      const value = this.valueOf(out[i]!);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /**
   * A point's value if it carries the input labels. A summary (quantiles) carries its quantiles
   * in its value, not as labels: `quantile` picks one of them, and without it the first counts,
   * as the first of its series did when quantiles were emitted as samples. (Loops, not `find`
   * with closures, and the wanted quantile as a number: this runs per series and window.)
   */
  private valueOf(point: MetricPoint): number | undefined {
    const { value, labels } = point;
    let byQuantile = false;
    for (let w = 0; w < this.inputLabels.length; w++) {
      const want = this.inputLabels[w]!;
      let found: string | undefined;
      for (let l = 0; l < labels.length; l++) {
        if (labels[l]!.name === want.name) {
          found = labels[l]!.value;
          break;
        }
      }
      if (found !== undefined) {
        if (found !== want.value) return undefined;
      } else if (want.name === 'quantile' && typeof value === 'object' && 'quantiles' in value) {
        byQuantile = true;
      } else {
        return undefined;
      }
    }
    if (typeof value === 'number') return value;
    if (value === undefined || !('quantiles' in value)) return undefined;
    const quantiles = value.quantiles;
    if (!byQuantile) return quantiles[0]?.value;
    for (let q = 0; q < quantiles.length; q++) if (quantiles[q]!.quantile === this.wantedQuantile) return quantiles[q]!.value;
    return undefined;
  }
}

export const anomalyMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name; emitted as `<name>` (the score in [0, 1]) and `<name>_events_total`.'),
    type: z.literal('anomaly').describe("An online anomaly detector over another metric's per-window value, per series."),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    input: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('A per-window metric (gauge, quantiles, distinct, data_quality) of this pipeline with the same labels.'),
    input_labels: z
      .record(z.string(), z.string())
      .default({})
      .describe('Picks one of the input\'s series, e.g. {quantile: "0.95"}; the first matching one is the value.'),
    detector: anomalyConfigSchema.prefault({}).describe('Detector parameters (threshold included); the defaults are tuned on NAB.'),
    events_topic: z
      .string()
      .regex(/^[a-zA-Z0-9._-]+$/, 'Kafka topic names use only letters, digits, ".", "_" and "-"')
      .max(249)
      .optional()
      .describe('Kafka topic for anomaly events (default: sluice.<pipeline>.anomalies).'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
  })
  .strict();

export const anomalyKind = defineKind(anomalyMetricSchema, {
  create: (config, about) =>
    new AnomalyAggregator(
      {
        name: config.name,
        input: config.input,
        inputLabels: config.input_labels,
        detector: config.detector,
        ...(config.events_topic !== undefined ? { eventsTopic: config.events_topic } : {}),
      },
      about,
    ),
  /**
   * Points the anomaly metric at its input, a per-window metric of the same series group (the
   * same labels, so the same series). Throws with the metric names otherwise.
   */
  bind: (config, aggregator, group) => {
    const input = group.metrics.findIndex((other) => other.name === config.input && other.type !== 'anomaly');
    if (input < 0) throw new Error(`anomaly metric ${config.name}: its input ${config.input} is not a metric with the same labels`);
    const source = group.aggregators[input]!;
    if (isSeriesStateful(source)) throw new Error(`anomaly metric ${config.name}: its input ${config.input} is itself a score; use a gauge, quantiles, distinct or data_quality metric`);
    if (source.cumulative) throw new Error(`anomaly metric ${config.name}: its input ${config.input} is cumulative; use a per-window metric (gauge, quantiles, ...)`);
    (aggregator as Aggregator & { inputIndex?: number }).inputIndex = input;
  },
});
