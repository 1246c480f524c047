/**
 * NAB's scoring rules (Numenta Anomaly Benchmark, `nab/sweeper.py` at commit ea702d7), written
 * from the published rules so a detector can be scored the way NAB scores its leaderboard:
 *
 * - a point is a detection when its score is at or above the threshold;
 * - the first 15 % of a file (at most 750 points) is probationary and never scored;
 * - inside a labelled window only the first detection counts, weighted by a scaled sigmoid of
 *   its position (≈ +1 at the window's start, 0 at its end); a window without a detection costs
 *   the false-negative weight;
 * - a detection outside every window costs the false-positive weight times a scaled sigmoid of
 *   its distance after the previous window (−1 before any window);
 * - one threshold for the whole corpus; the total is normalised so the null detector (no
 *   detections) scores 0 and the perfect one 100.
 */

export interface Profile {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export const PROFILES = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
} as const satisfies Record<string, Profile>;

/** One scored file: per point its detector score, its weight if detected, and its window (−1: none; −2: probationary). */
export interface ScoredFile {
  readonly scores: readonly number[];
  readonly weights: readonly number[];
  readonly windowOf: readonly number[];
  readonly windowCount: number;
}

export interface CorpusResult {
  readonly threshold: number;
  readonly raw: number;
  readonly normalised: number;
  readonly windowsDetected: number;
  readonly windows: number;
  readonly falsePositives: number;
}

const PROBATIONARY = -2;
const OUTSIDE = -1;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** NAB's `scaledSigmoid`: +1 well before the end of a window, 0 at its end, −1 far after it. */
export function scaledSigmoid(relativePosition: number): number {
  return relativePosition > 3 ? -1 : 2 * sigmoid(-5 * relativePosition) - 1;
}

export function probationaryLength(points: number): number {
  return Math.min(Math.floor(0.15 * points), 0.15 * 5000);
}

/**
 * Weighs every point of one file (NAB's `Sweeper.calcSweepScore`). `windows` are index pairs
 * [first, last] of the labelled windows, in order.
 */
export function weighFile(scores: readonly number[], windows: readonly (readonly [number, number])[], profile: Profile): ScoredFile {
  const maxTp = scaledSigmoid(-1);
  const probation = probationaryLength(scores.length);
  const weights: number[] = new Array(scores.length);
  const windowOf: number[] = new Array(scores.length);
  let next = 0;
  let current = -1;
  let right = -1;
  let width = 0;
  let previousRight = -1;
  let previousWidth = 0;
  for (let i = 0; i < scores.length; i++) {
    if (current < 0 && next < windows.length && i === windows[next]![0]) {
      current = next++;
      right = windows[current]![1];
      width = right - windows[current]![0] + 1;
    }
    let weight: number;
    if (current >= 0) {
      weight = (scaledSigmoid(-(right - i + 1) / width) * profile.tp) / maxTp;
    } else {
      const unweighted = previousRight < 0 ? -1 : scaledSigmoid(Math.abs(previousRight - i) / (previousWidth - 1));
      weight = unweighted * profile.fp;
    }
    weights[i] = weight;
    windowOf[i] = i < probation ? PROBATIONARY : current >= 0 ? current : OUTSIDE;
    if (current >= 0 && i === right) {
      previousRight = right;
      previousWidth = width;
      current = -1;
    }
  }
  return { scores, weights, windowOf, windowCount: windows.length };
}

/** The corpus score at one threshold. */
export function scoreAt(files: readonly ScoredFile[], threshold: number, profile: Profile): CorpusResult {
  let raw = 0;
  let detected = 0;
  let windows = 0;
  let falsePositives = 0;
  for (const file of files) {
    const hit: boolean[] = new Array(file.windowCount).fill(false);
    const windowScore: number[] = new Array(file.windowCount).fill(-profile.fn);
    windows += file.windowCount;
    for (let i = 0; i < file.scores.length; i++) {
      if (file.scores[i]! < threshold) continue;
      const w = file.windowOf[i]!;
      if (w === PROBATIONARY) continue;
      if (w === OUTSIDE) {
        raw += file.weights[i]!;
        falsePositives++;
      } else if (!hit[w]) {
        hit[w] = true;
        windowScore[w] = file.weights[i]!;
      }
    }
    for (let w = 0; w < file.windowCount; w++) {
      raw += windowScore[w]!;
      if (hit[w]) detected++;
    }
  }
  const nullScore = -profile.fn * windows;
  const perfectScore = profile.tp * windows;
  return { threshold, raw, normalised: (100 * (raw - nullScore)) / (perfectScore - nullScore), windowsDetected: detected, windows, falsePositives };
}

/**
 * The best corpus score over every distinct score value as threshold (NAB's threshold
 * optimisation), in one sweep down the sorted scores: lowering the threshold past a point adds it
 * as a false positive, or, in a window, moves the window's first detection earlier.
 */
export function bestThreshold(files: readonly ScoredFile[], profile: Profile): CorpusResult {
  const points: { score: number; file: number; index: number }[] = [];
  let raw = 0;
  const firstHit: number[][] = [];
  files.forEach((file, f) => {
    raw -= profile.fn * file.windowCount;
    firstHit.push(new Array(file.windowCount).fill(Number.POSITIVE_INFINITY));
    for (let i = 0; i < file.scores.length; i++) if (file.windowOf[i] !== PROBATIONARY) points.push({ score: file.scores[i]!, file: f, index: i });
  });
  points.sort((a, b) => b.score - a.score);
  let bestRaw = raw;
  let bestThresholdValue = Number.POSITIVE_INFINITY;
  for (let k = 0; k < points.length; k++) {
    const { file: f, index } = points[k]!;
    const file = files[f]!;
    const w = file.windowOf[index]!;
    if (w === OUTSIDE) raw += file.weights[index]!;
    else if (index < firstHit[f]![w]!) {
      const before = firstHit[f]![w]!;
      raw += file.weights[index]! - (Number.isFinite(before) ? file.weights[before]! : -profile.fn);
      firstHit[f]![w] = index;
    }
    const groupEnds = k + 1 === points.length || points[k + 1]!.score !== points[k]!.score;
    if (groupEnds && raw > bestRaw) {
      bestRaw = raw;
      bestThresholdValue = points[k]!.score;
    }
  }
  return scoreAt(files, bestThresholdValue, profile);
}
