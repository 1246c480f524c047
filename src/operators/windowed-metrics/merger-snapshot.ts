/**
 * The checkpoint form of a WindowMerger: plain data (msgpack-friendly) from which it is rebuilt
 * exactly, whole (`MergerSnapshot`) or incrementally (`MergerHead` and named entries). Its shape
 * is what Redis holds, so it changes only compatibly.
 */
import type { Label } from '../../core/types.ts';
import { isSeriesStateful } from '../aggregations/series-state.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan } from './plan.ts';
import type { RetiredSeries } from './retired-totals.ts';
import { OVERFLOW_PARTITION_LABEL } from './series-key.ts';

export type PartialWire = [number, string, string, (string | null)[], number, number, unknown[], number];
/**
 * A series: group, key, tenant, label values, last data end, cumulative accumulators, touched, the
 * stateful kinds' state (null: none in its group; absent in checkpoints from before those kinds),
 * and its running totals' starts (absent in checkpoints from before metric points).
 */
export type SeriesWire = [number, string, string, (string | null)[], number, unknown[], number, (unknown[] | null)?, StartsWire?];
/** Per aggregator, its running total's start (null: none yet). Absent in older checkpoints: set at the next emit. */
export type StartsWire = (number | null)[];
/** A retained total: group, key, tenant, label values, cumulative accumulators, touched, starts. */
export type RetiredWire = [number, string, string, (string | null)[], unknown[], number, StartsWire?];

export interface MergerSnapshot {
  watermark: number;
  firedThrough: number;
  nextEnd: number | null;
  panes: PartialWire[];
  sessions: PartialWire[];
  series: SeriesWire[];
  /** Totals of expired cumulative series, oldest first per tenant (absent in older checkpoints). */
  retired?: RetiredWire[];
}

/** The head of an incremental checkpoint: the snapshot without series and retained totals. */
export interface MergerHead {
  watermark: number;
  firedThrough: number;
  nextEnd: number | null;
  panes: PartialWire[];
  sessions: PartialWire[];
  /** The next sequence number of a series or retained total. */
  nextSeq: number;
}

/** What the window strategies hold, as they checkpoint it (the other strategy's part stays empty). */
export type WindowsSnapshot = Pick<MergerSnapshot, 'firedThrough' | 'nextEnd' | 'panes' | 'sessions'>;

/** Entry names in incremental checkpoints: a kind letter and the sequence number in base 36. */
export const SERIES = 's';
export const RETIRED = 'r';
/** A part of a stateful kind's series state (SeriesStateParts): series, metric and part numbers. */
export const PART = 'p';
export const seriesField = (seq: number): string => SERIES + seq.toString(36);
export const retiredField = (seq: number): string => RETIRED + seq.toString(36);
export const partField = (seq: number, metric: number, part: number): string => `${PART}${seq.toString(36)}.${metric.toString(36)}.${part.toString(36)}`;

/** A part entry's name back as its numbers (undefined: not a well-formed part name). */
export function parsePartField(field: string): { seq: number; metric: number; part: number } | undefined {
  const [seq, metric, part] = field.slice(PART.length).split('.').map((n) => (/^[0-9a-z]+$/.test(n) ? parseInt(n, 36) : Number.NaN));
  if (seq === undefined || metric === undefined || part === undefined || [seq, metric, part].some(Number.isNaN)) return undefined;
  return { seq, metric, part };
}

/*
 * The encoders below run per series and checkpoint (every series with data, each window): plain
 * loops, not `Array.from` with a mapping function or `map` with a closure (in a CPU profile of
 * scores-bench's anomaly half, `encodeStarts` alone had 0.9 % of all samples).
 */

export function encodeStarts(starts: readonly (number | undefined)[]): StartsWire {
  const wire = new Array<number | null>(starts.length);
  for (let m = 0; m < starts.length; m++) wire[m] = starts[m] ?? null;
  return wire;
}

/** Label values with `null` for a missing one (msgpack has no undefined). */
export function encodeValues(values: readonly (string | undefined)[]): (string | null)[] {
  const wire = new Array<string | null>(values.length);
  for (let i = 0; i < values.length; i++) wire[i] = values[i] ?? null;
  return wire;
}

export function decodeStarts(wire: StartsWire | undefined): (number | undefined)[] {
  return wire === undefined ? [] : wire.map((s) => s ?? undefined);
}

/** Per aggregator of the group, its accumulator's wire form (null: none, a per-window kind's place). */
export function encodeAccs(groups: readonly SeriesGroupPlan[], group: number, accs: readonly unknown[]): unknown[] {
  const aggregators = groups[group]!.aggregators;
  const wire = new Array<unknown>(accs.length);
  for (let m = 0; m < accs.length; m++) {
    const acc = accs[m];
    wire[m] = acc === undefined ? null : aggregators[m]!.encode(acc);
  }
  return wire;
}

/** A series' or retained total's cumulative accumulators, back from `encodeAccs`. */
export function decodeCumulative(groups: readonly SeriesGroupPlan[], group: number, wire: readonly unknown[]): unknown[] {
  const aggregators = groups[group]!.aggregators;
  // Metrics a reload appended to the group after this checkpoint start from zero, as for a new series.
  return aggregators.map((a, m) => (m >= wire.length ? (a.cumulative ? a.create() : undefined) : wire[m] === null ? undefined : a.decode(wire[m])));
}

export function encodePartial(groups: readonly SeriesGroupPlan[], p: PartialAggregate): PartialWire {
  return [p.group, p.key, p.tenant, encodeValues(p.labelValues), p.start, p.end, encodeAccs(groups, p.group, p.accs), p.touched];
}

export function decodePartial(groups: readonly SeriesGroupPlan[], [group, key, tenant, values, start, end, accs, touched]: PartialWire): PartialAggregate {
  const aggregators = groups[group]!.aggregators;
  // Metrics a reload appended to the group after this checkpoint get an empty accumulator.
  const decoded = aggregators.map((a, m) => (m >= accs.length ? a.create() : accs[m] === null ? undefined : a.decode(accs[m])));
  return { group, key, tenant, labelValues: values.map((v) => v ?? undefined), start, end, accs: decoded, touched };
}

/** What a series' entry says, whatever form the merger keeps the series in (SeriesTable.entry writes it). */
export interface SeriesFacts {
  readonly group: number;
  readonly key: string;
  readonly tenant: string;
  readonly labelValues: readonly (string | undefined)[];
  readonly lastDataEnd: number;
  /** Per aggregator, its cumulative accumulator (undefined: a per-window kind). */
  readonly cumulative: readonly unknown[];
  readonly touched: number;
  readonly starts: readonly (number | undefined)[];
}

/** A series back from its wire form, with its stateful kinds' states (undefined: none in its group). */
export function decodeSeries(groups: readonly SeriesGroupPlan[], [group, key, tenant, values, lastDataEnd, cumulative, touched, states, starts]: SeriesWire): { facts: SeriesFacts; states: unknown[] | undefined } {
  return {
    facts: { group, key, tenant, labelValues: values.map((v) => v ?? undefined), lastDataEnd, cumulative: decodeCumulative(groups, group, cumulative), touched, starts: decodeStarts(starts) },
    states: decodeStates(groups, group, states),
  };
}

/**
 * A series' label values back from its base labels (series-key.ts' `baseLabels`, which leaves out
 * missing values): the merger keeps the labels, which the points carry, and not the values too.
 */
export function labelValuesOf(group: SeriesGroupPlan, labels: readonly Label[], overflow: boolean): (string | undefined)[] {
  if (group.dynamic) return labels.flatMap((label) => [label.name, label.value]);
  if (overflow) return [...group.labelNames.map(() => undefined), labels.find((label) => label.name === OVERFLOW_PARTITION_LABEL)?.value];
  const values: (string | undefined)[] = [];
  let at = 0;
  for (const name of group.labelNames) {
    const label = labels[at];
    if (label !== undefined && label.name === name) {
      values.push(label.value);
      at++;
    } else {
      values.push(undefined);
    }
  }
  return values;
}

export function encodeRetired(groups: readonly SeriesGroupPlan[], key: string, r: RetiredSeries): RetiredWire {
  return [r.group, key, r.tenant, encodeValues(r.labelValues), encodeAccs(groups, r.group, r.cumulative), r.touched, encodeStarts(r.starts)];
}

/** A retained total and its series key back from their wire form, as the `seq`th entry. */
export function decodeRetired(groups: readonly SeriesGroupPlan[], [group, key, tenant, values, cumulative, touched, starts]: RetiredWire, seq: number): { key: string; retired: RetiredSeries } {
  const labelValues = values.map((v) => v ?? undefined);
  return { key, retired: { group, tenant, labelValues, cumulative: decodeCumulative(groups, group, cumulative), touched, starts: decodeStarts(starts), seq } };
}

export function encodeStates(groups: readonly SeriesGroupPlan[], group: number, states: readonly unknown[] | undefined, inParts: boolean): unknown[] | null {
  if (!states) return null;
  const aggregators = groups[group]!.aggregators;
  const wire = new Array<unknown>(states.length);
  for (let m = 0; m < states.length; m++) {
    const aggregator = aggregators[m]!;
    if (!isSeriesStateful(aggregator)) wire[m] = null;
    else wire[m] = inParts && aggregator.stateParts ? aggregator.stateParts.encodeMain(states[m]) : aggregator.encodeSeriesState(states[m]);
  }
  return wire;
}

function decodeStates(groups: readonly SeriesGroupPlan[], group: number, wire: readonly unknown[] | null | undefined): unknown[] | undefined {
  const aggregators = groups[group]!.aggregators;
  if (!aggregators.some(isSeriesStateful)) return undefined;
  // A checkpoint from before the group had stateful kinds starts their state afresh.
  return aggregators.map((a, m) => (isSeriesStateful(a) ? (wire?.[m] != null ? a.decodeSeriesState(wire[m]) : a.createSeriesState()) : undefined));
}
