import { EwStats } from './ew-stats.ts';

/** Doubles per seasonal slot: its mean, variance and count, side by side (one cache line an update). */
const SLOT_FIELDS = 3;

/**
 * A bounded seasonal profile: `slots` time-of-period slots of `slotMs` each (default 24 × 1 h: the
 * hour of day, UTC), each with an exponentially weighted mean and variance of the values that fell
 * in it. The raw score of a point is its distance from its slot's mean in units of the slot's
 * spread, plus a tenth of the series' overall spread so a slot that happened to be flat does not
 * turn small wiggles into large deviations. The profile also gives the expected range.
 * State: the overall EwStats (the series' overall spread, memory ≈ 100 points, the floor under
 * each slot's spread) at `overallAt`, with the detector's other small parts; from `tableAt`, per
 * slot its mean, variance and count together (snapshot version 1 had three tables: an update
 * touched three cache lines where it now touches one).
 */
export class SeasonalProfile {
  /** Doubles of the slot table (`tableAt`); the overall EwStats is EwStats.SLOTS more. */
  static tableSlots(slotCount: number): number {
    return SLOT_FIELDS * slotCount;
  }

  private readonly overall: EwStats;

  constructor(
    private readonly slotMs: number,
    private readonly slotCount: number,
    private readonly alpha: number,
    private readonly overallAt: number,
    private readonly tableAt: number,
    /** A slot's deviation counts once the slot has seen more than this many points. */
    private readonly minCount = 3,
  ) {
    this.overall = new EwStats(0.01, overallAt);
  }

  /** Where version 1's slots are now, in version 1's order: the means, the variances, the counts, the overall EwStats. */
  legacyOrder(): number[] {
    const order: number[] = [];
    for (let field = 0; field < SLOT_FIELDS; field++) for (let slot = 0; slot < this.slotCount; slot++) order.push(this.tableAt + SLOT_FIELDS * slot + field);
    for (let i = 0; i < EwStats.SLOTS; i++) order.push(this.overallAt + i);
    return order;
  }

  /**
   * The deviation (a z ≥ 0) of `x` at `timeMs` from its slot, then learns `x`. With `into`, also
   * the range `x` was expected in (`expected`, `width` spreads), from the same slot and spread:
   * one slot lookup and one spread (two square roots) per point instead of two, the same doubles.
   */
  update(s: Float64Array, x: number, timeMs: number, width = 0, into?: { lower: number; upper: number }): number {
    const m = this.slotAt(timeMs);
    const v = m + 1;
    const c = m + 2;
    const young = s[c]! <= this.minCount;
    // The slot's spread before `x` is learnt: the deviation's unit and the expected range's.
    const spread = young ? 0 : this.spread(s, v);
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

  /** The slot of `timeMs`'s first and last double (for DetectorModel.fetch: the update reads them later). */
  fetch(s: Float64Array, timeMs: number): number {
    const m = this.slotAt(timeMs);
    return s[m]! + s[m + 2]!;
  }

  /**
   * The range a point at `timeMs` was expected in, `width` spreads either side of its slot's mean
   * (the overall mean and spread while the slot is young), as `into.lower` and `into.upper`.
   * Read it before `update` for the point.
   */
  expected(s: Float64Array, timeMs: number, width: number, into: { lower: number; upper: number }): void {
    const m = this.slotAt(timeMs);
    const young = s[m + 2]! <= this.minCount;
    this.expectedFrom(s, young, s[m]!, young ? 0 : this.spread(s, m + 1), width, into);
  }

  /** `expected` from the slot's mean and spread (a young slot's range is the overall one). */
  private expectedFrom(s: Float64Array, young: boolean, slotMean: number, slotSpread: number, width: number, into: { lower: number; upper: number }): void {
    const centre = young ? this.overall.mean(s) : slotMean;
    const spread = young ? this.overall.sd(s) : slotSpread;
    into.lower = centre - width * spread;
    into.upper = centre + width * spread;
  }

  /** The spread of the slot whose variance is at `variance`. */
  private spread(s: Float64Array, variance: number): number {
    return Math.sqrt(s[variance]!) + 0.1 * this.overall.sd(s) + 1e-9;
  }

  /** Where the slot of `timeMs` starts (its mean; the variance and count follow). */
  private slotAt(timeMs: number): number {
    let slot = Math.floor(timeMs / this.slotMs) % this.slotCount;
    if (slot < 0) slot += this.slotCount;
    return this.tableAt + SLOT_FIELDS * slot;
  }
}
