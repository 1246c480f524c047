import type { Persistent } from './state-buffer.ts';

/**
 * Exponentially weighted mean and variance (West's incremental form): `alpha` is the weight of the
 * newest point, so the memory is about 1/alpha points. The first point sets the mean.
 */
export class EwStats implements Persistent {
  readonly slots = 3;
  count = 0;
  mean = 0;
  variance = 0;

  constructor(readonly alpha: number) {}

  push(x: number): void {
    if (this.count === 0) {
      this.mean = x;
    } else {
      const d = x - this.mean;
      this.mean += this.alpha * d;
      this.variance = (1 - this.alpha) * (this.variance + this.alpha * d * d);
    }
    this.count++;
  }

  get sd(): number {
    return Math.sqrt(this.variance);
  }

  save(out: Float64Array, at: number): number {
    out[at] = this.count;
    out[at + 1] = this.mean;
    out[at + 2] = this.variance;
    return at + 3;
  }

  load(from: Float64Array, at: number): number {
    this.count = from[at]!;
    this.mean = from[at + 1]!;
    this.variance = from[at + 2]!;
    return at + 3;
  }
}

/** Squashes a non-negative deviation (a z) into [0, 1): 1 − e^(−z/scale). */
export function squash(z: number, scale: number): number {
  return 1 - Math.exp(-z / scale);
}
