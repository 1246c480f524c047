/**
 * Exponentially weighted mean and variance (West's incremental form): `alpha` is the weight of the
 * newest point, so the memory is about 1/alpha points. The first point sets the mean. The state is
 * three slots of the detector's state from `at` (count, mean, variance). Like the other parts, one
 * instance serves every detector of a configuration.
 *
 * A class the parts hold, not functions they import: a call to an imported function goes through
 * the module's export getter where the sources are transpiled (tsx), which took 18 % of an update.
 */
export class EwStats {
  static readonly SLOTS = 3;

  constructor(
    private readonly alpha: number,
    private readonly at: number,
  ) {}

  push(s: Float64Array, x: number): void {
    const { at, alpha } = this;
    if (s[at] === 0) {
      s[at + 1] = x;
    } else {
      const d = x - s[at + 1]!;
      s[at + 1] = s[at + 1]! + alpha * d;
      s[at + 2] = (1 - alpha) * (s[at + 2]! + alpha * d * d);
    }
    s[at] = s[at]! + 1;
  }

  count(s: Float64Array): number {
    return s[this.at]!;
  }

  mean(s: Float64Array): number {
    return s[this.at + 1]!;
  }

  sd(s: Float64Array): number {
    return Math.sqrt(s[this.at + 2]!);
  }
}
