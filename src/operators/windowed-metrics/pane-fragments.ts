import type { PartialAggregate } from './partial.ts';
import type { CombinerWindows, PartialMaker } from './pre-aggregator.ts';

/** The start of the pane an event time falls in (floored: event times before 1970 too). */
export function paneStart(eventTimeMs: number, slideMs: number): number {
  return eventTimeMs - (((eventTimeMs % slideMs) + slideMs) % slideMs);
}

/**
 * Time windows: one partial per series and pane (`slide` long; a tumbling window is one pane).
 * Within a flush almost every series has records in one pane only, so a series costs one Map
 * entry, its newest partial; a series with records in more panes also gets a Map of them by pane start.
 */
export class PaneFragments implements CombinerWindows {
  /** Per series, the partial of the pane it was last asked for; its key order is the order series arrived. */
  private newest = new Map<string, PartialAggregate>();
  /** Per series with partials in more than one pane since the last drain: all of them by pane start, oldest first. */
  private several = new Map<string, Map<number, PartialAggregate>>();
  constructor(
    private readonly slideMs: number,
    private readonly partials: PartialMaker,
  ) {}

  get seriesCount(): number {
    return this.newest.size;
  }

  /** `start` is the event time's pane start, which the combiner computes once for every group of a record. */
  partialFor(g: number, key: string, tenant: string, _eventTimeMs: number, start: number): PartialAggregate {
    const slide = this.slideMs;
    const newest = this.newest.get(key);
    if (newest === undefined) {
      const partial = this.partials.newPartial(g, key, tenant, start, start + slide);
      this.newest.set(key, partial);
      return partial;
    }
    if (newest.start === start) return newest;
    let byStart = this.several.get(key);
    if (byStart === undefined) this.several.set(key, (byStart = new Map([[newest.start, newest]])));
    let partial = byStart.get(start);
    if (partial === undefined) byStart.set(start, (partial = this.partials.newPartial(g, key, tenant, start, start + slide)));
    this.newest.set(key, partial);
    return partial;
  }

  drain(): PartialAggregate[] {
    const out: PartialAggregate[] = [];
    for (const [key, newest] of this.newest) {
      const byStart = this.several.get(key);
      if (byStart === undefined) out.push(newest);
      else for (const partial of byStart.values()) out.push(partial);
    }
    this.newest = new Map();
    this.several = new Map();
    return out;
  }
}
