/**
 * The "spatial anomaly" rule of numenta's NAB detector, made causal: a value outside the running
 * [min − tolerance·range, max + tolerance·range] of everything seen before it is anomalous outright.
 * Alone it scored 52.5 on NAB's development split with only 10 false positives: few rules are as
 * precise. The range never shrinks (a new extreme is news once, then it is the range). Nothing is
 * flagged during the first `warmup` points: the range of a handful of points says nothing yet.
 * State, from `at`: count, min, max. The count is every point learnt, so it doubles as the
 * detector's sequence number (replay-log.ts).
 *
 * Like every part, one instance serves all detectors of a configuration: it holds the offsets and
 * parameters, the detector's Float64Array the state (see detector.ts for why).
 */
export class RangeGuard {
  static readonly SLOTS = 3;

  constructor(
    private readonly tolerance: number,
    private readonly warmup: number,
    readonly at: number,
  ) {}

  /** True when `x` breaks out of the range seen so far; then widens the range to include `x`. */
  update(s: Float64Array, x: number): boolean {
    const at = this.at;
    const count = s[at]!;
    const min = s[at + 1]!;
    const max = s[at + 2]!;
    let outside = false;
    if (count >= this.warmup && count > 0 && max > min) {
      const margin = (max - min) * this.tolerance;
      outside = x > max + margin || x < min - margin;
    }
    if (count === 0 || x < min) s[at + 1] = x;
    if (count === 0 || x > max) s[at + 2] = x;
    s[at] = count + 1;
    return outside;
  }

  /** Points learnt so far. */
  count(s: Float64Array): number {
    return s[this.at]!;
  }
}
