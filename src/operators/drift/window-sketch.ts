/** A drift window's DDSketch filled from the wire's bins or from exact sorted counts (window.ts). */
import type { DDSketch } from '@datadog/sketches-js';
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
