import type { Rejection } from '../../core/dead-letter-reason.ts';
import type { MetricDescriptor, MetricPoint, MetricType } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';

/**
 * One point an aggregator emits per series and window: its metric and its labels (sorted, no
 * `__name__`), built once per series so emitting allocates only the point.
 */
export interface PointTarget {
  readonly metric: MetricDescriptor;
  readonly labels: readonly Label[];
}

/**
 * One metric's aggregation, as the two stages need it: read a record's value, fold it into an
 * accumulator, merge accumulators (partials from many partitions, panes of a hopping window),
 * move accumulators over the wire (partials, checkpoints) and emit metric points.
 *
 * `cumulative` aggregators (counters, histograms) keep one accumulator per series across
 * windows; the others produce one value per window from that window's accumulator.
 */
export interface Aggregator<A = unknown, In = unknown> {
  readonly name: string;
  readonly cumulative: boolean;
  /**
   * True when `emit` leaves the accumulator as it was (counters, histograms), so a series without
   * new data has nothing new to checkpoint. Absent: `emit` may change it (a counter rate's spans).
   */
  readonly emitKeepsAcc?: boolean;
  /** Reads the record's input: the value `add` takes, why it cannot count, or SKIP (not for this metric). */
  read(record: Record<string, unknown>): In | InvalidInput | typeof SKIP;
  create(): A;
  /** Folds one record's value in; `eventTimeMs` is the record's event time (for `last`). */
  add(acc: A, value: In, eventTimeMs: number): void;
  merge(into: A, from: A): void;
  /**
   * True when the accumulator is a Float64Array whose numbers are all of it, so `decode(encode(acc))`
   * is a copy of them: the partials wire then writes them as raw float64s instead of calling these.
   */
  readonly plainNumbers?: boolean;
  /** A msgpack-friendly value (numbers, arrays, Uint8Array) that `decode` turns back into an accumulator. */
  encode(acc: A): unknown;
  /** `encode` for a caller that copies the value at once (the partials wire): it may be a view of memory the next call reuses. */
  encodeOnce?(acc: A): unknown;
  decode(wire: unknown): A;
  /** The points of a series with these base labels (sorted, no `__name__`), built once per series. */
  targets(base: readonly Label[]): readonly PointTarget[];
  /**
   * Appends this metric's points for one series: `windowSeconds` is for rates, `startMs` is when
   * the series' running total started (cumulative kinds put it on their points).
   */
  emit(acc: A, targets: readonly PointTarget[], timestampMs: number, windowSeconds: number, startMs: number, out: MetricPoint[]): void;
  /**
   * Kinds that count records dead-lettered as invalid (data_quality): counts one such record of
   * the series in `acc`. Absent on the others.
   */
  readonly countRejected?: (acc: A) => void;
}

/**
 * Why a record's input cannot count in a metric: a dead-letter rejection, built once per metric
 * and cause when the plan is compiled (never per record), and told apart from any input by its class.
 */
export class InvalidInput implements Rejection {
  readonly reason = 'invalid_value';
  constructor(readonly detail: string) {}
}

/** The record does not take part in this metric (its `filter` is false). */
export const SKIP = Symbol('not for this metric');

/** What the configuration says about a metric beyond its name and kind. */
export interface MetricAbout {
  readonly help?: string;
  readonly unit?: string;
}

/** The descriptor of one configured metric, built once when the plan is compiled. */
export function describeMetric(name: string, type: MetricType, about: MetricAbout = {}, shape: Pick<MetricDescriptor, 'bounds' | 'quantiles'> = {}): MetricDescriptor {
  return { name, type, unit: about.unit ?? '', help: about.help ?? '', ...shape };
}

/** `base` with `extra` added (replacing a label of the same name), sorted by label name. */
export function withLabel(base: readonly Label[], extra: Label): readonly Label[] {
  const labels: Label[] = [];
  for (const label of base) if (label.name !== extra.name) labels.push(label);
  labels.push(extra);
  return labels.sort(byName);
}

export function byName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The one point of a single-valued metric. */
export function singleTarget(metric: MetricDescriptor, base: readonly Label[]): readonly PointTarget[] {
  return [{ metric, labels: base }];
}
