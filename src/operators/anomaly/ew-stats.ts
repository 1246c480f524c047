/**
 * Exponentially weighted mean and variance (West's incremental form): `alpha` is the weight of the
 * newest point, so the memory is about 1/alpha points. The first point sets the mean. The state is
 * three slots of the detector's state from `at` (count, mean, variance); these are functions over
 * it, not an object per detector, so an update reads the state's doubles and nothing else.
 */
export const EW_SLOTS = 3;

export function ewPush(s: Float64Array, at: number, alpha: number, x: number): void {
  if (s[at] === 0) {
    s[at + 1] = x;
  } else {
    const d = x - s[at + 1]!;
    s[at + 1] = s[at + 1]! + alpha * d;
    s[at + 2] = (1 - alpha) * (s[at + 2]! + alpha * d * d);
  }
  s[at] = s[at]! + 1;
}

export function ewCount(s: Float64Array, at: number): number {
  return s[at]!;
}

export function ewMean(s: Float64Array, at: number): number {
  return s[at + 1]!;
}

export function ewSd(s: Float64Array, at: number): number {
  return Math.sqrt(s[at + 2]!);
}

/** Squashes a non-negative deviation (a z) into [0, 1): 1 − e^(−z/scale). */
export function squash(z: number, scale: number): number {
  return 1 - Math.exp(-z / scale);
}
