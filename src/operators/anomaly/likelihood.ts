import { EwStats } from './ew-stats.ts';

/**
 * HTM-style anomaly likelihood (numenta's `anomaly_likelihood.py`, made O(1)): the average of the
 * last `window` raw scores is compared with the long-term distribution of such averages (an
 * exponentially weighted mean and spread, memory ≈ 1/`alpha` points), and its Gaussian upper-tail
 * probability p is reported log-scaled, log(1 − (1 − p)) / log(1e−10), so 0.5 ≈ p = 1e−5 and 1 ≈
 * p = 1e−10. A raw score that is often high (a noisy series) therefore stops being alarming; a
 * raw score that is rarely high is. Reports 0 for the first `learn` points.
 * State: from `at` the ring's sum, points seen and the averages' EwStats; the ring of raw scores
 * from `ringAt`, every `ringStride`-th double. The detector's likelihoods see the same points, so
 * their rings are interleaved: slot k of each is side by side (one cache line an update instead of
 * one per likelihood; snapshot version 1 had each ring between its sum and its EwStats).
 */
export class AnomalyLikelihood {
  /** Doubles from `at`; the ring is `window` more, interleaved with the other likelihoods'. */
  static readonly SLOTS = 2 + EwStats.SLOTS;

  private readonly averages: EwStats;

  constructor(
    private readonly window: number,
    alpha: number,
    private readonly learn: number,
    private readonly at: number,
    private readonly ringAt: number,
    private readonly ringStride: number,
    /** Floor under the long-term spread, as numenta's (0.03 there too): a flat history is not certainty. */
    private readonly minSpread = 0.03,
  ) {
    this.averages = new EwStats(alpha, at + 2);
  }

  /** Where version 1's slots are now, in version 1's order: the sum, points seen, the ring, the EwStats. */
  legacyOrder(): number[] {
    const { at, ringAt, ringStride } = this;
    const ring = Array.from({ length: this.window }, (_, k) => ringAt + k * ringStride);
    return [at, at + 1, ...ring, at + 2, at + 3, at + 4];
  }

  /** The ring slot the next update writes (for DetectorModel.fetch: the likelihoods' slots are side by side). */
  fetch(s: Float64Array): number {
    return s[this.ringAt + ((s[this.at + 1]! | 0) % this.window) * this.ringStride]!;
  }

  update(s: Float64Array, raw: number): number {
    const { at, window: w, averages } = this;
    const seen = s[at + 1]!;
    // `seen` is a whole number below learn + 2 × window (see `next`; learn_points ≤ 10^9 keeps it
    // below 2^31): as an int32 its remainder is
    // the same, computed as an integer modulo rather than a double's (with transition-novelty's
    // divisions done once: an update 1-2 % faster, 6 of 6 paired runs of 250 detectors).
    const slot = this.ringAt + ((seen | 0) % w) * this.ringStride;
    let sum = s[at]!;
    if (seen >= w) sum -= s[slot]!;
    s[slot] = raw;
    sum += raw;
    s[at] = sum;
    const filled = Math.min(seen + 1, w);
    // Past the learning period only `seen` mod window matters: step back a window to stay bounded.
    const next = (s[at + 1] = seen + 1 >= this.learn + 2 * w ? seen + 1 - w : seen + 1);
    const average = sum / filled;
    if (averages.count(s) === 0) averages.push(s, average);
    const spread = Math.max(averages.sd(s), this.minSpread);
    const mean = Math.max(averages.mean(s), 0.03);
    const tail = 1 - normalCdf((average - mean) / spread);
    averages.push(s, average);
    if (next <= this.learn) return 0;
    return Math.log(1.0000000001 - (1 - tail)) / LOG_TAIL_FLOOR;
  }
}

/** The log-scale's unit: log(1e−10), written as it was first computed (the scores' last bits depend on it). */
const LOG_TAIL_FLOOR = Math.log(1 - 0.9999999999);

/** Standard normal CDF (Abramowitz–Stegun 26.2.17, absolute error < 7.5e−8). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989423 * Math.exp((-z * z) / 2);
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return z > 0 ? 1 - p : p;
}
