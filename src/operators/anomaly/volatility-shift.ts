import { EwStats } from './ew-stats.ts';
import type { Persistent } from './state-buffer.ts';

/**
 * A change in how much the series moves: the log of the step |x − previous| averaged fast
 * (`fastAlpha`) against its slow average and spread (`slowAlpha`). It catches what level rules
 * miss — a signal that goes flat, or starts jittering, inside its usual range. The deviation is in
 * units of the fast average's own standard error, σ·√(α/(2−α)).
 */
export class VolatilityShift implements Persistent {
  readonly slots: number;
  private readonly fast: EwStats;
  private readonly slow: EwStats;
  private previous = 0;
  private seen = 0;
  private readonly standardError: number;

  constructor(fastAlpha: number, slowAlpha: number) {
    this.fast = new EwStats(fastAlpha);
    this.slow = new EwStats(slowAlpha);
    this.standardError = Math.sqrt(fastAlpha / (2 - fastAlpha));
    this.slots = 2 + this.fast.slots + this.slow.slots;
  }

  /** The shift (a z ≥ 0) after `x`, then learns `x`. */
  update(x: number): number {
    const step = this.seen === 0 ? 0 : Math.abs(x - this.previous);
    this.previous = x;
    this.seen = Math.min(this.seen + 1, 1e15);
    // 1e-9 keeps log finite on repeated values; a flat stretch then reads as a big drop in movement.
    const logStep = Math.log(step + 1e-9);
    this.fast.push(logStep);
    const z = this.slow.count > 20 ? Math.abs(this.fast.mean - this.slow.mean) / (this.slow.sd * this.standardError + 1e-6) : 0;
    this.slow.push(logStep);
    return z;
  }

  save(out: Float64Array, at: number): number {
    out[at] = this.previous;
    out[at + 1] = this.seen;
    return this.slow.save(out, this.fast.save(out, at + 2));
  }

  load(from: Float64Array, at: number): number {
    this.previous = from[at]!;
    this.seen = from[at + 1]!;
    return this.slow.load(from, this.fast.load(from, at + 2));
  }
}
