import type { Aggregator } from '../aggregations/aggregator.ts';
import { zeroedDoubles } from '../aggregations/double-slab.ts';
import type { MergerSeries } from './merger-series.ts';
import { NONE } from './series-table.ts';
import { decodePartial, encodePartial, type WindowsSnapshot } from './merger-snapshot.ts';
import type { PartialAggregate } from './partial.ts';
import type { MergerWindows, MergerOptions } from './window-merger.ts';

/**
 * Stage 2's time windows (tumbling and hopping): partials wait in panes `slide` long; a window
 * of `size` is the panes it covers, fired once when the watermark passes its end plus the
 * allowed lateness. Cumulative series take in the pane that ends with the window (each record
 * counted once) and are emitted at every window, like a scrape; per-window kinds get the merge of
 * the window's panes.
 */
export class TimeWindows implements MergerWindows {
  private readonly panes = new Map<number, Map<string, PartialAggregate>>();
  private nextEnd: number | undefined;
  private firedThrough = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sizeMs: number,
    private readonly slideMs: number,
    private readonly series: MergerSeries,
    private readonly options: Pick<MergerOptions, 'allowedLatenessMs' | 'expireAfterMs'>,
  ) {}

  add(incoming: PartialAggregate): 'ok' | 'late' {
    if (incoming.end <= this.firedThrough) return 'late';
    const partial = this.series.admit(incoming);
    let pane = this.panes.get(partial.start);
    if (!pane) this.panes.set(partial.start, (pane = new Map()));
    const existing = pane.get(partial.key);
    if (existing) this.series.mergeAccs(existing, partial);
    else pane.set(partial.key, onSlabs(partial, this.series.groups[partial.group]!.aggregators));
    if (this.nextEnd === undefined || partial.end < this.nextEnd) this.nextEnd = partial.end;
    return 'ok';
  }

  nextFireAt(): number {
    return this.nextEnd === undefined ? Number.POSITIVE_INFINITY : this.nextEnd + this.options.allowedLatenessMs;
  }

  fire(watermark: number): void {
    const lateness = this.options.allowedLatenessMs;
    const slide = this.slideMs;
    while (this.nextEnd !== undefined && this.nextEnd + lateness <= watermark) {
      const end = this.nextEnd;
      this.fireWindow(end);
      this.firedThrough = end;
      let next: number | undefined = end + slide;
      if (this.series.table.size === 0) {
        // Nothing to repeat: jump over the gap to the next pane that holds data, if any.
        next = undefined;
        for (const start of this.panes.keys()) if (next === undefined || start + slide < next) next = start + slide;
      }
      this.nextEnd = next;
    }
  }

  private fireWindow(end: number): void {
    const { sizeMs: size, slideMs: slide, series: all } = this;
    // Cumulative series take in the pane that ends here: each record is counted exactly once.
    const closing = this.panes.get(end - slide);
    // The closing pane's series, in its order, for a tumbling window's per-window kinds (one array
    // per window, not kept: a buffer kept at its largest cost 8 B per series between windows).
    const closingSeries = new Int32Array(closing?.size ?? 0);
    if (closing) {
      let at = 0;
      for (const partial of closing.values()) {
        const series = all.seriesFor(partial);
        closingSeries[at++] = series;
        all.setLastDataEnd(series, end);
        all.table.addTouched(series, partial.touched);
        const aggregators = all.groups[partial.group]!.aggregators;
        for (let m = 0; m < aggregators.length; m++) {
          if (aggregators[m]!.cumulative) all.mergeCumulative(series, m, partial.accs[m]);
        }
      }
    }
    if (size === slide) this.emitTumbling(closing, closingSeries, end);
    else this.emitWindowGauges(end);
    const table = all.table;
    for (let series = table.first, next = NONE; series !== NONE; series = next) {
      next = table.next(series);
      if (all.lastDataEnd(series) <= end - this.options.expireAfterMs) {
        all.emission.emitStale(series, end);
        const key = table.key(series);
        all.expire(series, key, this.waitsInLaterPane(key, end));
        continue;
      }
      all.emission.emitTotals(series, end, size / 1000, end - slide);
    }
    // Panes that no later window covers are done.
    for (const start of this.panes.keys()) if (start < end + slide - size) this.panes.delete(start);
  }

  /**
   * A tumbling window's per-window aggregators: the closing pane is the whole window, and its
   * series were just found for their cumulative kinds (`closingSeries`, in the pane's order), so
   * neither a map of merged partials nor a second lookup per series is needed.
   */
  private emitTumbling(closing: Map<string, PartialAggregate> | undefined, closingSeries: Int32Array, end: number): void {
    if (!closing) return;
    const all = this.series;
    let at = 0;
    for (const partial of closing.values()) {
      const series = closingSeries[at++]!;
      if (!all.hasWindowed[partial.group]) continue;
      this.emitWindowed(series, windowCopy(all, partial), end);
    }
  }

  /** Per-window aggregators: one value per series with data in [end - size, end). */
  private emitWindowGauges(end: number): void {
    const { sizeMs: size, slideMs: slide, series: all } = this;
    const merged = new Map<string, PartialAggregate>();
    for (let start = end - size; start < end; start += slide) {
      const pane = this.panes.get(start);
      if (!pane) continue;
      for (const [key, partial] of pane) {
        if (!all.hasWindowed[partial.group]) continue;
        const into = merged.get(key);
        if (!into) merged.set(key, windowCopy(all, partial));
        else all.mergeAccs(into, partial, true);
      }
    }
    for (const partial of merged.values()) this.emitWindowed(this.series.seriesFor(partial), partial, end);
  }

  /** The per-window kinds of the series for the window ending at `end`, from the partial's accumulators. */
  private emitWindowed(series: number, partial: PartialAggregate, end: number): void {
    const all = this.series;
    all.table.addTouched(series, all.emission.emitWindowed(series, partial.key, partial.accs, partial.touched, end - this.sizeMs, end));
  }

  private waitsInLaterPane(key: string, end: number): boolean {
    for (const [start, pane] of this.panes) if (start >= end && pane.has(key)) return true;
    return false;
  }

  *waiting(): Iterable<PartialAggregate> {
    for (const pane of this.panes.values()) yield* pane.values();
  }

  snapshot(): WindowsSnapshot {
    const groups = this.series.groups;
    return {
      firedThrough: this.firedThrough,
      nextEnd: this.nextEnd ?? null,
      panes: [...this.panes.values()].flatMap((pane) => [...pane.values()].map((p) => encodePartial(groups, p))),
      sessions: [],
    };
  }

  restore(wire: WindowsSnapshot): void {
    this.firedThrough = wire.firedThrough;
    this.nextEnd = wire.nextEnd ?? undefined;
    this.panes.clear();
    for (const encoded of wire.panes) {
      const partial = decodePartial(this.series.groups, encoded);
      let pane = this.panes.get(partial.start);
      if (!pane) this.panes.set(partial.start, (pane = new Map()));
      pane.set(partial.key, partial);
    }
  }
}

/**
 * A fresh copy of the partial's per-window accumulators, merged from it: panes stay intact for the
 * next hopping window, and a per-window kind may change its accumulator as it emits (a tumbling
 * window that emitted from the pane's own accumulators made scores-crash differ in a drift series).
 */
function windowCopy(all: MergerSeries, partial: PartialAggregate): PartialAggregate {
  const copy = { ...partial, accs: all.groups[partial.group]!.aggregators.map((a) => (a.cumulative ? undefined : a.create())), touched: 0 };
  all.mergeAccs(copy, partial, true);
  return copy;
}

/**
 * The partial with its plain-number accumulators (counters, gauges, histograms) moved onto shared
 * slabs, as it waits in a pane: a Float64Array of its own costs 88 B more per accumulator than a
 * view of a slab (`test/bench/state-bench.ts`). The partials wire already decodes onto slabs, so
 * its partials' accumulators stay where they are; the others (the previous msgpack wire,
 * in-process callers) are copied.
 */
function onSlabs(partial: PartialAggregate, aggregators: readonly Aggregator[]): PartialAggregate {
  const accs = partial.accs;
  for (let m = 0; m < accs.length; m++) {
    const acc = accs[m];
    if (aggregators[m]?.plainNumbers !== true || !(acc instanceof Float64Array)) continue;
    // A view past the start of its buffer is on a slab already: only double-slab.ts makes such
    // Float64Arrays (a slab's first view is copied, which is harmless). (Not asking `acc.buffer`:
    // that would move a small array off the heap.) Copying every one again cost three views and
    // copies per series and pane.
    if (acc.byteOffset !== 0) continue;
    const moved = zeroedDoubles(acc.length);
    moved.set(acc);
    accs[m] = moved;
  }
  return partial;
}
