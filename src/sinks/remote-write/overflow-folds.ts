/**
 * Samples of one write folded into overflow series (limits.max_active_series), per overflow
 * series and timestamp: float values are added up; native histograms (remote-write 2.0, custom
 * buckets) are added bucket by bucket, so the overflow series is itself a valid histogram. An
 * overflow series stands for many: a float one carries no start time or descriptor of its own; a
 * histogram keeps its metric's descriptor, which all it stands for share (one name, one set of
 * bounds).
 */
import type { HistogramValue, MetricDescriptor } from '../../core/metric-model.ts';
import type { SeriesRef } from './series-catalog.ts';

interface Fold {
  sum: number;
  weight: number;
  histogram: { bounds: readonly number[]; bucketCounts: number[]; count: number; sum: number } | undefined;
  metric: MetricDescriptor | undefined;
}

/** Where a fold goes: the shard ring's push, with the fold's value, histogram and weight. */
export type PushFold = (
  target: SeriesRef,
  value: number,
  ts: number,
  metric: MetricDescriptor | undefined,
  weight: number,
  histogram: HistogramValue | undefined,
) => void;

export class OverflowFolds {
  private readonly folds = new Map<SeriesRef, Map<number, Fold>>();
  /** Samples folded. */
  size = 0;

  /**
   * Adds one sample (its value, or its histogram) to `target` at `ts`. Returns why it cannot be
   * folded (a float and a histogram, or two histograms of different bounds, in one series).
   */
  add(target: SeriesRef, ts: number, value: number, histogram: HistogramValue | undefined, metric: MetricDescriptor | undefined): string | undefined {
    let byTs = this.folds.get(target);
    if (byTs === undefined) this.folds.set(target, (byTs = new Map()));
    const fold = byTs.get(ts);
    if (fold === undefined) {
      const copy = histogram === undefined ? undefined : { bounds: histogram.bounds, bucketCounts: [...histogram.bucketCounts], count: histogram.count, sum: histogram.sum };
      byTs.set(ts, { sum: value, weight: 1, histogram: copy, metric: copy === undefined ? undefined : metric });
      this.size++;
      return undefined;
    }
    const into = fold.histogram;
    if ((into === undefined) !== (histogram === undefined)) return 'a histogram and a float sample fold into one overflow series';
    if (into !== undefined && histogram !== undefined) {
      if (!sameBounds(into.bounds, histogram.bounds) || into.bucketCounts.length !== histogram.bucketCounts.length) {
        return 'histograms of different bounds fold into one overflow series';
      }
      for (let b = 0; b < into.bucketCounts.length; b++) into.bucketCounts[b]! += histogram.bucketCounts[b]!;
      into.count += histogram.count;
      into.sum += histogram.sum;
    }
    fold.sum += value;
    fold.weight++;
    this.size++;
    return undefined;
  }

  /** Hands every fold to `push`, then forgets them. */
  drain(push: PushFold): void {
    for (const [target, byTs] of this.folds) {
      for (const [ts, fold] of byTs) push(target, fold.sum, ts, fold.metric, fold.weight, fold.histogram);
    }
    this.folds.clear();
    this.size = 0;
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
