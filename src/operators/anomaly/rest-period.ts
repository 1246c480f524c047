/**
 * After a detection (score ≥ threshold), the next `points` scores are held just under the
 * threshold (as CAD OSE does): one incident is one alarm, not a burst. On NAB's development split
 * this took the ensemble from 63.8 (114 false positives) to 70.6 (26). State, at `at`: points
 * since the last detection.
 */
export class RestPeriod {
  static readonly SLOTS = 1;

  constructor(
    private readonly points: number,
    private readonly threshold: number,
    readonly at: number,
  ) {}

  /** A new detector's state: no detection yet, so not resting. */
  init(s: Float64Array): void {
    s[this.at] = this.points + 1;
  }

  apply(s: Float64Array, score: number): number {
    const since = Math.min(s[this.at]! + 1, this.points + 1);
    s[this.at] = since;
    if (score < this.threshold) return score;
    if (since <= this.points) return Math.min(score, this.threshold) * 0.999;
    s[this.at] = 0;
    return score;
  }
}
