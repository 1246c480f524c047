import type { PartialAggregate } from './partial.ts';
import type { CombinerWindows, NewPartial } from './pre-aggregator.ts';

/** Time windows: one partial per series and pane (`slide` long; a tumbling window is one pane). */
export class PaneFragments implements CombinerWindows {
  private panes = new Map<string, { current: PartialAggregate | undefined; byPane: Map<number, PartialAggregate> }>();
  /**
   * The pane start of the last event time asked for: every group of a record asks with the same
   * time, and the floored modulo of an epoch-ms double costs more than the comparison.
   */
  private lastTime = NaN;
  private lastStart = 0;

  constructor(
    private readonly slideMs: number,
    private readonly newPartial: NewPartial,
  ) {}

  get seriesCount(): number {
    return this.panes.size;
  }

  partialFor(g: number, key: string, tenant: string, eventTimeMs: number): PartialAggregate {
    const slide = this.slideMs;
    if (eventTimeMs !== this.lastTime) {
      this.lastTime = eventTimeMs;
      this.lastStart = eventTimeMs - (((eventTimeMs % slide) + slide) % slide);
    }
    const start = this.lastStart;
    let series = this.panes.get(key);
    if (!series) this.panes.set(key, (series = { current: undefined, byPane: new Map() }));
    // Within a flush almost every record of a series falls into its newest pane: check it first.
    const current = series.current;
    if (current !== undefined && current.start === start) return current;
    let partial = series.byPane.get(start);
    if (!partial) series.byPane.set(start, (partial = this.newPartial(g, key, tenant, start, start + slide)));
    series.current = partial;
    return partial;
  }

  drain(): PartialAggregate[] {
    const out: PartialAggregate[] = [];
    for (const series of this.panes.values()) for (const partial of series.byPane.values()) out.push(partial);
    this.panes = new Map();
    return out;
  }
}
