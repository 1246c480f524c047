import { EwStats } from './ew-stats.ts';

/**
 * A change in how much the series moves: the log of the step |x − previous| averaged fast
 * (`fastAlpha`) against its slow average and spread (`slowAlpha`). It catches what level rules
 * miss — a signal that goes flat, or starts jittering, inside its usual range. The deviation is in
 * units of the fast average's own standard error, σ·√(α/(2−α)).
 * State, from `at`: the previous value, points seen, the fast EwStats, the slow EwStats.
 */
export class VolatilityShift {
  static readonly SLOTS = 2 + 2 * EwStats.SLOTS;

  private readonly fast: EwStats;
  private readonly slow: EwStats;
  private readonly standardError: number;

  constructor(
    fastAlpha: number,
    slowAlpha: number,
    readonly at: number,
  ) {
    this.fast = new EwStats(fastAlpha, at + 2);
    this.slow = new EwStats(slowAlpha, at + 2 + EwStats.SLOTS);
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
    fast.push(s, logStep);
    const z = slow.count(s) > 20 ? Math.abs(fast.mean(s) - slow.mean(s)) / (slow.sd(s) * this.standardError + 1e-6) : 0;
    slow.push(s, logStep);
    return z;
  }
}
