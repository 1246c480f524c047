import type { Label, Sample } from '../../core/types.ts';

/**
 * One metric's aggregation, as the two stages need it: read a record's value, fold it into an
 * accumulator, merge accumulators (partials from many partitions, panes of a hopping window),
 * move accumulators over the wire (partials, checkpoints) and emit samples.
 *
 * `cumulative` aggregators (counters, histograms) keep one accumulator per series across
 * windows; the others produce one value per window from that window's accumulator.
 */
export interface Aggregator<A = unknown> {
  readonly name: string;
  readonly cumulative: boolean;
  /** Reads the record's input, or returns INVALID with `invalidReason` describing why. */
  read(record: Record<string, unknown>): number | string | typeof INVALID | typeof SKIP;
  readonly invalidReason: string;
  create(): A;
  /** Folds one record's value in; `eventTimeMs` is the record's event time (for `last`). */
  add(acc: A, value: number | string, eventTimeMs: number): void;
  merge(into: A, from: A): void;
  /** A msgpack-friendly value (numbers, arrays, Uint8Array) that `decode` turns back into an accumulator. */
  encode(acc: A): unknown;
  decode(wire: unknown): A;
  /** Output label sets for a series with these base labels (sorted), built once per series. */
  outputLabels(base: readonly Label[]): readonly (readonly Label[])[];
  /** Appends this metric's samples for one series; `windowSeconds` is for rates. */
  emit(acc: A, labels: readonly (readonly Label[])[], timestampMs: number, windowSeconds: number, out: Sample[]): void;
}

export const INVALID = Symbol('invalid input');

/** The record does not take part in this metric (its `filter` is false). */
export const SKIP = Symbol('not for this metric');

/** `{__name__: name, ...base, extra}` sorted by label name. */
export function withName(base: readonly Label[], name: string, extra?: Label): readonly Label[] {
  const labels: Label[] = [{ name: '__name__', value: name }];
  for (const label of base) if (!extra || label.name !== extra.name) labels.push(label);
  if (extra) labels.push(extra);
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
