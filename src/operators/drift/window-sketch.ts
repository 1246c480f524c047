/** A drift window's DDSketch filled from the wire's bins or from exact sorted counts, and read out as a sample (window.ts). */
import type { DDSketch } from '@datadog/sketches-js';
import { weightedNumericSample, type NumericSample } from './sample.ts';
import type { SketchBins } from './window-bytes.ts';
import type { SortedCounts } from './sorted-counts.ts';

/** The sketch's bins as the wire holds them: key `offset + i` has count bins[i] (empty bins skipped). */
export function addBins(store: DDSketch['store'], { offset, bins }: SketchBins): void {
  if (!Number.isInteger(offset)) throw new RangeError('a drift sketch on the wire has a bad bin offset');
  for (let i = 0; i < bins.length; i++) {
    const c = bins[i]!;
    if (!(c >= 0 && Number.isFinite(c))) throw new RangeError('a drift sketch on the wire has a bad bin count');
    if (c > 0) store.add(offset + i, c);
  }
}

export function acceptAll(sketch: DDSketch, sorted: SortedCounts): void {
  for (let i = 0; i < sorted.values.length; i++) sketch.accept(sorted.values[i]!, sorted.counts[i]!);
}

/** A sketched window's sample: each non-empty bin's representative value, clamped to [min, max], with its count. */
export function sketchSample(sketch: DDSketch, min: number, max: number, integral: boolean): NumericSample {
  const clamp = (v: number): number => Math.min(max, Math.max(min, v));
  const points: [number, number][] = [];
  const { store, negativeStore, mapping } = sketch;
  for (let i = 0; i < store.bins.length; i++) {
    const c = store.bins[i]!;
    if (c > 0) points.push([clamp(mapping.value(i + store.offset)), c]);
  }
  for (let i = 0; i < negativeStore.bins.length; i++) {
    const c = negativeStore.bins[i]!;
    if (c > 0) points.push([clamp(-mapping.value(i + negativeStore.offset)), c]);
  }
  if (sketch.zeroCount > 0) points.push([clamp(0), sketch.zeroCount]);
  points.sort((a, b) => a[0] - b[0]);
  const values: number[] = [];
  const cumulative: number[] = [];
  let running = 0;
  for (const [v, c] of points) {
    running += c;
    if (values.length > 0 && values[values.length - 1] === v) cumulative[cumulative.length - 1] = running;
    else {
      values.push(v);
      cumulative.push(running);
    }
  }
  return weightedNumericSample(values, cumulative, integral);
}
