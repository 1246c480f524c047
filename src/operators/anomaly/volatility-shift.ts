import { EwStats } from './ew-stats.ts';

/**
 * A change in how much the series moves: the log of the step |x − previous| averaged fast
 * (`fastAlpha`) against its slow average and spread (`slowAlpha`). It catches what level rules
 * miss — a signal that goes flat, or starts jittering, inside its usual range. The deviation is in
 * units of the fast average's own standard error, σ·√(α/(2−α)).
 * State: the previous value, points seen, the fast EwStats, the slow EwStats.
 */
export class VolatilityShift {
  static readonly SLOTS = 2 + 2 * EwStats.SLOTS;

  private readonly fast: EwStats;
  private readonly slow: EwStats;
  private readonly standardError: number;

  constructor(
    fastAlpha: number,
    slowAlpha: number,
    private readonly s: Float64Array,
  ) {
    this.fast = new EwStats(fastAlpha, s.subarray(2, 2 + EwStats.SLOTS));
    this.slow = new EwStats(slowAlpha, s.subarray(2 + EwStats.SLOTS, 2 + 2 * EwStats.SLOTS));
    this.standardError = Math.sqrt(fastAlpha / (2 - fastAlpha));
  }

  /** The shift (a z ≥ 0) after `x`, then learns `x`. */
  update(x: number): number {
    const s = this.s;
    const step = s[1] === 0 ? 0 : Math.abs(x - s[0]!);
    s[0] = x;
    s[1] = Math.min(s[1]! + 1, 1e15);
    // 1e-9 keeps log finite on repeated values; a flat stretch then reads as a big drop in movement.
    const logStep = Math.log(step + 1e-9);
    this.fast.push(logStep);
    const z = this.slow.count > 20 ? Math.abs(this.fast.mean - this.slow.mean) / (this.slow.sd * this.standardError + 1e-6) : 0;
    this.slow.push(logStep);
    return z;
  }
}
