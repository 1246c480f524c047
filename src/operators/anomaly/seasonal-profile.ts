import { EwStats } from './ew-stats.ts';
import type { PagedTables, StatePages } from './state-pages.ts';

/**
 * A bounded seasonal profile: `slots` time-of-period slots of `slotMs` each (default 24 × 1 h: the
 * hour of day, UTC), each with an exponentially weighted mean and variance of the values that fell
 * in it. The raw score of a point is its distance from its slot's mean in units of the slot's
 * spread, plus a tenth of the series' overall spread so a slot that happened to be flat does not
 * turn small wiggles into large deviations. The profile also gives the expected range.
 * State: per slot the means, then the variances, then the counts; then the overall EwStats.
 */
export class SeasonalProfile {
  static slots(slotCount: number): number {
    return 3 * slotCount + EwStats.SLOTS;
  }

  private readonly mean: Float64Array;
  private readonly variance: Float64Array;
  private readonly count: Float64Array;
  /** The series' overall spread (memory ≈ 100 points), the floor under each slot's spread. */
  private readonly overall: EwStats;
  /** Marks the checkpoint page of a slot this point changed (absent: nobody checkpoints in pages). */
  private readonly pages: PagedTables | undefined;

  constructor(
    private readonly slotMs: number,
    private readonly slotCount: number,
    private readonly alpha: number,
    s: Float64Array,
    pages?: StatePages,
    /** A slot's deviation counts once the slot has seen more than this many points. */
    private readonly minCount = 3,
  ) {
    this.mean = s.subarray(0, slotCount);
    this.variance = s.subarray(slotCount, 2 * slotCount);
    this.count = s.subarray(2 * slotCount, 3 * slotCount);
    this.overall = new EwStats(0.01, s.subarray(3 * slotCount, 3 * slotCount + EwStats.SLOTS));
    this.pages = pages?.group([this.mean, this.variance, this.count]);
  }

  /** The deviation (a z ≥ 0) of `x` at `timeMs` from its slot, then learns `x`. */
  update(x: number, timeMs: number): number {
    const s = slotOf(timeMs, this.slotMs, this.slotCount);
    let z = 0;
    if (this.count[s] === 0) {
      this.mean[s] = x;
    } else {
      const d = x - this.mean[s]!;
      if (this.count[s]! > this.minCount) z = Math.abs(d) / this.spread(s);
      this.mean[s] = this.mean[s]! + this.alpha * d;
      this.variance[s] = (1 - this.alpha) * (this.variance[s]! + this.alpha * d * d);
    }
    this.count[s] = this.count[s]! + 1;
    this.pages?.touch(s);
    this.overall.push(x);
    return z;
  }

  /**
   * The range a point at `timeMs` was expected in, `width` spreads either side of its slot's mean
   * (the overall mean and spread while the slot is young). Read it before `update` for the point.
   */
  expected(timeMs: number, width: number): [number, number] {
    const s = slotOf(timeMs, this.slotMs, this.slotCount);
    const young = this.count[s]! <= this.minCount;
    const centre = young ? this.overall.mean : this.mean[s]!;
    const spread = young ? this.overall.sd : this.spread(s);
    return [centre - width * spread, centre + width * spread];
  }

  private spread(s: number): number {
    return Math.sqrt(this.variance[s]!) + 0.1 * this.overall.sd + 1e-9;
  }
}

function slotOf(timeMs: number, slotMs: number, slotCount: number): number {
  const s = Math.floor(timeMs / slotMs) % slotCount;
  return s < 0 ? s + slotCount : s;
}
