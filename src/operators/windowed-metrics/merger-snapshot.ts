/**
 * The checkpoint form of a WindowMerger: plain data (msgpack-friendly) from which `restore`
 * rebuilds it exactly. Its shape is what Redis holds, so it changes only compatibly.
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

export interface MergerSnapshot {
  watermark: number;
  firedThrough: number;
  nextEnd: number | null;
  panes: PartialWire[];
  sessions: PartialWire[];
  series: SeriesWire[];
  /** Totals of expired cumulative series, oldest first per tenant (absent in older checkpoints). */
  retired?: [number, string, string, (string | null)[], unknown[], number, StartsWire?][];
}

/** What the window strategies hold, as they checkpoint it (the other strategy's part stays empty). */
export type WindowsSnapshot = Pick<MergerSnapshot, 'firedThrough' | 'nextEnd' | 'panes' | 'sessions'>;

export function encodeStarts(starts: readonly (number | undefined)[]): StartsWire {
  return Array.from(starts, (s) => s ?? null);
}

export function decodeStarts(wire: StartsWire | undefined): (number | undefined)[] {
  return wire === undefined ? [] : wire.map((s) => s ?? undefined);
}

export function encodePartial(groups: readonly SeriesGroupPlan[], p: PartialAggregate): PartialWire {
  const aggregators = groups[p.group]!.aggregators;
  return [p.group, p.key, p.tenant, p.labelValues.map((v) => v ?? null), p.start, p.end, p.accs.map((acc, m) => (acc === undefined ? null : aggregators[m]!.encode(acc))), p.touched];
}

export function decodePartial(groups: readonly SeriesGroupPlan[], [group, key, tenant, values, start, end, accs, touched]: PartialWire): PartialAggregate {
  const aggregators = groups[group]!.aggregators;
  return { group, key, tenant, labelValues: values.map((v) => v ?? undefined), start, end, accs: accs.map((w, m) => (w === null ? undefined : aggregators[m]!.decode(w))), touched };
}
