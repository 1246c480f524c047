import { ewCount, ewMean, ewPush, ewSd, EW_SLOTS } from './ew-stats.ts';

/**
 * A change in how much the series moves: the log of the step |x − previous| averaged fast
 * (`fastAlpha`) against its slow average and spread (`slowAlpha`). It catches what level rules
 * miss — a signal that goes flat, or starts jittering, inside its usual range. The deviation is in
 * units of the fast average's own standard error, σ·√(α/(2−α)).
 * State, from `at`: the previous value, points seen, the fast EwStats, the slow EwStats.
 */
export class VolatilityShift {
  static readonly SLOTS = 2 + 2 * EW_SLOTS;

  private readonly fast: number;
  private readonly slow: number;
  private readonly standardError: number;

  constructor(
    private readonly fastAlpha: number,
    private readonly slowAlpha: number,
    private readonly at: number,
  ) {
    this.fast = at + 2;
    this.slow = at + 2 + EW_SLOTS;
    this.standardError = Math.sqrt(fastAlpha / (2 - fastAlpha));
  }

  /** The shift (a z ≥ 0) after `x`, then learns `x`. */
  update(s: Float64Array, x: number): number {
    const { at, fast, slow } = this;
    const step = s[at + 1] === 0 ? 0 : Math.abs(x - s[at]!);
    s[at] = x;
    s[at + 1] = Math.min(s[at + 1]! + 1, 1e15);
    // 1e-9 keeps log finite on repeated values; a flat stretch then reads as a big drop in movement.
    const logStep = Math.log(step + 1e-9);
    ewPush(s, fast, this.fastAlpha, logStep);
    const z = ewCount(s, slow) > 20 ? Math.abs(ewMean(s, fast) - ewMean(s, slow)) / (ewSd(s, slow) * this.standardError + 1e-6) : 0;
    ewPush(s, slow, this.slowAlpha, logStep);
    return z;
  }
}
