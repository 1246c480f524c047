import { z } from 'zod';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import { DDSketch } from '@datadog/sketches-js';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, withLabel, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';
import { mergeSketch } from './sketch-merge.ts';
import { addSketchBytes, checkSketchBytes, decodeSketch, encodeSketch, isSketchBytes, mergeSketchBytes } from './sketch-wire.ts';

/**
 * A sketch as stage 2 holds it from decoding until its window fires: its wire bytes
 * (sketch-wire.ts), about 12 bytes per bin with counts. The library's DDSketch keeps a dense
 * store (8 bytes for every key from the lowest to the highest seen, 2.8 KB for 50 latencies over
 * three decades at 1 %) and a dozen objects, which made an open window's quantile series cost
 * 3.2 KB against 1 KB now (`test/bench/state-bench.ts`).
 */
export class PackedSketch {
  constructor(public bytes: Uint8Array) {}
}

/** Stage 1 adds records into DDSketches; stage 2 keeps what it decodes packed, and unpacks a window's at firing. */
export type QuantilesAcc = DDSketch | PackedSketch;

/**
 * Quantiles per window from a DDSketch (Datadog's implementation): every quantile within the
 * configured relative accuracy, and sketches from any number of partials merge exactly.
 * Emitted as one gauge point per quantile, label `quantile`, as Prometheus summaries do; not as a
 * SummaryValue, which would add `_sum` and `_count` series that Sluice never sent.
 */
export class QuantilesAggregator implements Aggregator<QuantilesAcc, number> {
  readonly cumulative = false;
  readonly read: (record: Record<string, unknown>) => number | InvalidInput;
  readonly metric: MetricDescriptor;
  /** `quantile` label values: Go's shortest round-trip form, as Prometheus client libraries write them. */
  private readonly quantileLabels: readonly string[];

  constructor(
    readonly name: string,
    valueField: string,
    private readonly quantiles: readonly number[],
    private readonly relativeAccuracy: number,
    scale = 1,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'gauge', about);
    this.quantileLabels = quantiles.map(String);
    this.read = numericInput(valueField, new InvalidInput(`${name}: field "${valueField}" is not a finite number`), { scale });
  }

  create(): DDSketch {
    return new DDSketch({ relativeAccuracy: this.relativeAccuracy });
  }

  /** Records are added in stage 1, into the sketches `create` made. */
  add(acc: QuantilesAcc, value: number): void {
    (acc as DDSketch).accept(value);
  }

  /** Counts added key by key whatever the forms: merged partials answer as one sketch of all their records. */
  merge(into: QuantilesAcc, from: QuantilesAcc): void {
    if (into instanceof PackedSketch) into.bytes = mergeSketchBytes(into.bytes, from instanceof PackedSketch ? from.bytes : encodeSketch(from));
    else if (from instanceof PackedSketch) addSketchBytes(into, from.bytes);
    else mergeSketch(into, from);
  }

  encode(acc: QuantilesAcc): unknown {
    return acc instanceof PackedSketch ? acc.bytes : encodeSketch(acc);
  }

  /**
   * Packed (its bytes checked and copied: the wire's may be a view of a whole message), and
   * unpacked into a fresh sketch of this aggregator's mapping when emitted: a sketch read back with
   * the mapping its protobuf carries answers quantiles that differ in the last bits, and a re-sent
   * sample must be bit-identical (Prometheus refuses a different value at the same timestamp).
   * The protobuf form of earlier versions is read into a DDSketch at once.
   */
  decode(wire: unknown): QuantilesAcc {
    const bytes = wire as Uint8Array;
    if (!isSketchBytes(bytes)) return decodeSketch(bytes, this.create());
    checkSketchBytes(bytes);
    // Uint8Array's slice copies; a Buffer's own `slice` would be a view of the message.
    return new PackedSketch(Uint8Array.prototype.slice.call(bytes));
  }

  /** The sketch to answer quantiles from. */
  private unpacked(acc: QuantilesAcc): DDSketch {
    return acc instanceof PackedSketch ? decodeSketch(acc.bytes, this.create()) : acc;
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return this.quantileLabels.map((value) => ({ metric: this.metric, labels: withLabel(base, { name: 'quantile', value }) }));
  }

  emit(acc: QuantilesAcc, targets: readonly PointTarget[], timestampMs: number, _w: number, _start: number, out: MetricPoint[]): void {
    const sketch = this.unpacked(acc);
    if (sketch.count === 0) return;
    for (let i = 0; i < this.quantiles.length; i++) {
      const target = targets[i]!;
      out.push({ metric: target.metric, labels: target.labels, timestampMs, value: sketch.getValueAtQuantile(this.quantiles[i]!) });
    }
  }
}

export const quantilesMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name; one series per quantile, label `quantile`.'),
    type: z.literal('quantiles').describe('Quantiles per window from a mergeable DDSketch.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    value: fieldPath.describe('Field observed per record.'),
    scale: z.number().positive().default(1).describe('Multiplier applied to the value, e.g. 0.001 for ms → s.'),
    quantiles: z.array(z.number().gt(0).lt(1)).min(1).describe('Quantiles to emit, each in (0, 1).'),
    relative_accuracy: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.01)
      .describe('Guaranteed relative error of every quantile (DDSketch alpha).'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict();

export const quantilesKind = defineKind(quantilesMetricSchema, {
  create: (config, about) => new QuantilesAggregator(config.name, config.value, config.quantiles, config.relative_accuracy, config.scale, about),
});
