/**
 * Exponentially weighted mean and variance (West's incremental form): `alpha` is the weight of the
 * newest point, so the memory is about 1/alpha points. The first point sets the mean. The state is
 * three slots of the detector's state (count, mean, variance).
 */
export class EwStats {
  static readonly SLOTS = 3;

  constructor(
    readonly alpha: number,
    private readonly s: Float64Array,
  ) {}

  get count(): number {
    return this.s[0]!;
  }

  get mean(): number {
    return this.s[1]!;
  }

  get variance(): number {
    return this.s[2]!;
  }

  push(x: number): void {
    const s = this.s;
    if (s[0] === 0) {
      s[1] = x;
    } else {
      const d = x - s[1]!;
      s[1] = s[1]! + this.alpha * d;
      s[2] = (1 - this.alpha) * (s[2]! + this.alpha * d * d);
    }
    s[0] = s[0]! + 1;
  }

  get sd(): number {
    return Math.sqrt(this.s[2]!);
  }
}

/** Squashes a non-negative deviation (a z) into [0, 1): 1 − e^(−z/scale). */
export function squash(z: number, scale: number): number {
  return 1 - Math.exp(-z / scale);
}
