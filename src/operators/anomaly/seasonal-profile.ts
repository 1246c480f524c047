import { EwStats } from './ew-stats.ts';

/**
 * A bounded seasonal profile: `slots` time-of-period slots of `slotMs` each (default 24 × 1 h: the
 * hour of day, UTC), each with an exponentially weighted mean and variance of the values that fell
 * in it. The raw score of a point is its distance from its slot's mean in units of the slot's
 * spread, plus a tenth of the series' overall spread so a slot that happened to be flat does not
 * turn small wiggles into large deviations. The profile also gives the expected range.
 * State, from `at`: per slot the means, then the variances, then the counts; then the overall
 * EwStats (the series' overall spread, memory ≈ 100 points, the floor under each slot's spread).
 */
export class SeasonalProfile {
  static slots(slotCount: number): number {
    return 3 * slotCount + EwStats.SLOTS;
  }

  private readonly mean: number;
  private readonly variance: number;
  private readonly count: number;
  private readonly overall: EwStats;

  constructor(
    private readonly slotMs: number,
    private readonly slotCount: number,
    private readonly alpha: number,
    at: number,
    /** A slot's deviation counts once the slot has seen more than this many points. */
    private readonly minCount = 3,
  ) {
    this.mean = at;
    this.variance = at + slotCount;
    this.count = at + 2 * slotCount;
    this.overall = new EwStats(0.01, at + 3 * slotCount);
  }

  /** The tables ([start, end) slots): means, variances, counts. */
  get tables(): [number, number][] {
    return [this.mean, this.variance, this.count].map((start) => [start, start + this.slotCount]);
  }

  /**
   * The deviation (a z ≥ 0) of `x` at `timeMs` from its slot, then learns `x`. With `into`, also
   * the range `x` was expected in (`expected`, `width` spreads), from the same slot and spread:
   * one slot lookup and one spread (two square roots) per point instead of two, the same doubles.
   */
  update(s: Float64Array, x: number, timeMs: number, width = 0, into?: { lower: number; upper: number }): number {
    const slot = this.slotOf(timeMs);
    const m = this.mean + slot;
    const v = this.variance + slot;
    const c = this.count + slot;
    const young = s[c]! <= this.minCount;
    // The slot's spread before `x` is learnt: the deviation's unit and the expected range's.
    const spread = young ? 0 : this.spread(s, slot);
    if (into !== undefined) this.expectedFrom(s, young, s[m]!, spread, width, into);
    let z = 0;
    if (s[c] === 0) {
      s[m] = x;
    } else {
      const d = x - s[m]!;
      if (!young) z = Math.abs(d) / spread;
      s[m] = s[m]! + this.alpha * d;
      s[v] = (1 - this.alpha) * (s[v]! + this.alpha * d * d);
    }
    s[c] = s[c]! + 1;
    this.overall.push(s, x);
    return z;
  }

  /**
   * The range a point at `timeMs` was expected in, `width` spreads either side of its slot's mean
   * (the overall mean and spread while the slot is young), as `into.lower` and `into.upper`.
   * Read it before `update` for the point.
   */
  expected(s: Float64Array, timeMs: number, width: number, into: { lower: number; upper: number }): void {
    const slot = this.slotOf(timeMs);
    const young = s[this.count + slot]! <= this.minCount;
    this.expectedFrom(s, young, s[this.mean + slot]!, young ? 0 : this.spread(s, slot), width, into);
  }

  /** `expected` from the slot's mean and spread (a young slot's range is the overall one). */
  private expectedFrom(s: Float64Array, young: boolean, slotMean: number, slotSpread: number, width: number, into: { lower: number; upper: number }): void {
    const centre = young ? this.overall.mean(s) : slotMean;
    const spread = young ? this.overall.sd(s) : slotSpread;
    into.lower = centre - width * spread;
    into.upper = centre + width * spread;
  }

  private spread(s: Float64Array, slot: number): number {
    return Math.sqrt(s[this.variance + slot]!) + 0.1 * this.overall.sd(s) + 1e-9;
  }

  private slotOf(timeMs: number): number {
    const slot = Math.floor(timeMs / this.slotMs) % this.slotCount;
    return slot < 0 ? slot + this.slotCount : slot;
  }
}
