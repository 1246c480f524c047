import { EwStats } from './ew-stats.ts';
import type { Persistent } from './state-buffer.ts';

/**
 * HTM-style anomaly likelihood (numenta's `anomaly_likelihood.py`, made O(1)): the average of the
 * last `window` raw scores is compared with the long-term distribution of such averages (an
 * exponentially weighted mean and spread, memory ≈ 1/`alpha` points), and its Gaussian upper-tail
 * probability p is reported log-scaled, log(1 − (1 − p)) / log(1e−10), so 0.5 ≈ p = 1e−5 and 1 ≈
 * p = 1e−10. A raw score that is often high (a noisy series) therefore stops being alarming; a
 * raw score that is rarely high is. Reports 0 for the first `learn` points.
 */
export class AnomalyLikelihood implements Persistent {
  readonly slots: number;
  private readonly ring: Float64Array;
  private readonly averages: EwStats;
  private sum = 0;
  private seen = 0;

  constructor(
    window: number,
    alpha: number,
    private readonly learn: number,
    /** Floor under the long-term spread, as numenta's (0.03 there too): a flat history is not certainty. */
    private readonly minSpread = 0.03,
  ) {
    this.ring = new Float64Array(window);
    this.averages = new EwStats(alpha);
    this.slots = 2 + window + this.averages.slots;
  }

  update(raw: number): number {
    const w = this.ring.length;
    const at = this.seen % w;
    if (this.seen >= w) this.sum -= this.ring[at]!;
    this.ring[at] = raw;
    this.sum += raw;
    const filled = Math.min(this.seen + 1, w);
    // Past the learning period only `seen` mod window matters: step back a window to stay bounded.
    this.seen = this.seen + 1 >= this.learn + 2 * w ? this.seen + 1 - w : this.seen + 1;
    const average = this.sum / filled;
    if (this.averages.count === 0) this.averages.push(average);
    const spread = Math.max(this.averages.sd, this.minSpread);
    const mean = Math.max(this.averages.mean, 0.03);
    const tail = 1 - normalCdf((average - mean) / spread);
    this.averages.push(average);
    if (this.seen <= this.learn) return 0;
    return Math.log(1.0000000001 - (1 - tail)) / Math.log(1 - 0.9999999999);
  }

  save(out: Float64Array, at: number): number {
    out[at] = this.sum;
    out[at + 1] = this.seen;
    out.set(this.ring, at + 2);
    return this.averages.save(out, at + 2 + this.ring.length);
  }

  load(from: Float64Array, at: number): number {
    this.sum = from[at]!;
    this.seen = from[at + 1]!;
    this.ring.set(from.subarray(at + 2, at + 2 + this.ring.length));
    return this.averages.load(from, at + 2 + this.ring.length);
  }
}

/** Standard normal CDF (Abramowitz–Stegun 26.2.17, absolute error < 7.5e−8). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989423 * Math.exp((-z * z) / 2);
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return z > 0 ? 1 - p : p;
}
