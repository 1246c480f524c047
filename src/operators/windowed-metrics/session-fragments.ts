import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan } from './plan.ts';
import type { CombinerWindows, PartialMaker } from './pre-aggregator.ts';

/** Sessions: per series, fragments of events no more than `gap` apart, merged when an event bridges two. */
export class SessionFragments implements CombinerWindows {
  private sessions = new Map<string, PartialAggregate[]>();

  constructor(
    private readonly gapMs: number,
    private readonly partials: PartialMaker,
    private readonly groups: readonly SeriesGroupPlan[],
  ) {}

  get seriesCount(): number {
    return this.sessions.size;
  }

  /** Extends the fragment within `gap` of the event, merging fragments the event bridges. */
  partialFor(g: number, key: string, tenant: string, t: number): PartialAggregate {
    const gap = this.gapMs;
    let fragments = this.sessions.get(key);
    if (!fragments) this.sessions.set(key, (fragments = []));
    let target: PartialAggregate | undefined;
    for (let i = 0; i < fragments.length; i++) {
      const fragment = fragments[i]!;
      if (t < fragment.start - gap || t > fragment.end + gap) continue;
      if (!target) {
        target = fragment;
        if (t < target.start) target.start = t;
        if (t > target.end) target.end = t;
      } else {
        // The event bridges two fragments: they are one session now.
        const aggregators = this.groups[g]!.aggregators;
        for (let m = 0; m < aggregators.length; m++) aggregators[m]!.merge(target.accs[m], fragment.accs[m]);
        target.touched |= fragment.touched;
        target.start = Math.min(target.start, fragment.start);
        target.end = Math.max(target.end, fragment.end);
        fragments.splice(i--, 1);
      }
    }
    if (!target) fragments.push((target = this.partials.newPartial(g, key, tenant, t, t)));
    return target;
  }

  drain(): PartialAggregate[] {
    const out: PartialAggregate[] = [];
    for (const fragments of this.sessions.values()) for (const partial of fragments) out.push(partial);
    this.sessions = new Map();
    return out;
  }
}
