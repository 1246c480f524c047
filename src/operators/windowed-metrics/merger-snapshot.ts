/**
 * The checkpoint form of a WindowMerger: plain data (msgpack-friendly) from which it is rebuilt
 * exactly, whole (`MergerSnapshot`) or incrementally (`MergerHead` and named entries). Its shape
 * is what Redis holds, so it changes only compatibly.
 */
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan } from './plan.ts';

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
export const seriesField = (seq: number): string => SERIES + seq.toString(36);
export const retiredField = (seq: number): string => RETIRED + seq.toString(36);

export function encodeStarts(starts: readonly (number | undefined)[]): StartsWire {
  return Array.from(starts, (s) => s ?? null);
}

export function decodeStarts(wire: StartsWire | undefined): (number | undefined)[] {
  return wire === undefined ? [] : wire.map((s) => s ?? undefined);
}

/** Per aggregator of the group, its accumulator's wire form (null: none, a per-window kind's place). */
export function encodeAccs(groups: readonly SeriesGroupPlan[], group: number, accs: readonly unknown[]): unknown[] {
  const aggregators = groups[group]!.aggregators;
  return accs.map((acc, m) => (acc === undefined ? null : aggregators[m]!.encode(acc)));
}

/** A series' or retained total's cumulative accumulators, back from `encodeAccs`. */
export function decodeCumulative(groups: readonly SeriesGroupPlan[], group: number, wire: readonly unknown[]): unknown[] {
  const aggregators = groups[group]!.aggregators;
  // Metrics a reload appended to the group after this checkpoint start from zero, as for a new series.
  return aggregators.map((a, m) => (m >= wire.length ? (a.cumulative ? a.create() : undefined) : wire[m] === null ? undefined : a.decode(wire[m])));
}

export function encodePartial(groups: readonly SeriesGroupPlan[], p: PartialAggregate): PartialWire {
  return [p.group, p.key, p.tenant, p.labelValues.map((v) => v ?? null), p.start, p.end, encodeAccs(groups, p.group, p.accs), p.touched];
}

export function decodePartial(groups: readonly SeriesGroupPlan[], [group, key, tenant, values, start, end, accs, touched]: PartialWire): PartialAggregate {
  const aggregators = groups[group]!.aggregators;
  // Metrics a reload appended to the group after this checkpoint get an empty accumulator.
  const decoded = aggregators.map((a, m) => (m >= accs.length ? a.create() : accs[m] === null ? undefined : a.decode(accs[m])));
  return { group, key, tenant, labelValues: values.map((v) => v ?? undefined), start, end, accs: decoded, touched };
}
