/**
 * One window's worth of a drift feature, mergeable across partitions and panes and checkpointable.
 *
 * Numerical: exact while the window holds at most `maxExactValues` distinct values (a value → count
 * map, so a feature with few distinct values, such as status codes or token buckets, stays exact at
 * any volume). Past the bound it switches to a DDSketch (Datadog's, relative accuracy α, default
 * 0.01) plus the exact count, minimum, maximum and integrality. Scoring then treats every value as
 * its sketch bin's representative v', clamped to [min, max], with |v' - v| <= α |v|. Error of a
 * sketched window, against the exact scores:
 *   - counts, minimum and maximum stay exact, so Sturges edges and the K-S exact/asymptotic choice do;
 *   - each empirical CDF is exact except inside one sketch bin, so the K-S statistic moves by at most
 *     the largest bin share of each sample (the p-value follows from that statistic);
 *   - Wasserstein moves by at most α (mean|x_ref| + mean|x_cur|), and the reference std by at most
 *     α · rms(x_ref), before the normalisation;
 *   - PSI and Jensen–Shannon: only values within α|v| of a Sturges edge can change bin;
 *   - with more than 20 sketch bins the numerical tests bin, as Evidently would for the exact data.
 * A sketch bin is 2α|x| wide, so the error grows with the data's distance from zero relative to its
 * spread: N(10, 2) at α = 0.01 puts ~4 % of its mass in one bin (K-S statistic within ±0.08),
 * at α = 0.001 ~0.4 %. Choose α for the feature, or raise maxExactValues.
 * Categorical: exact counts per category up to `maxCategories`; later new categories are counted
 * under OVERFLOW_CATEGORY (one extra bin), which the snapshot and the scores show as such.
 */
import { DDSketch } from '@datadog/sketches-js';
import type { CategoricalSample, DriftSample, FeatureType, NumericSample } from './sample.ts';
import { categoricalSample, typedNumericSample, weightedNumericSample } from './sample.ts';

export const OVERFLOW_CATEGORY = '__overflow__';

export interface DriftWindowOptions {
  readonly featureType: FeatureType;
  /** Distinct numerical values kept exactly before the window switches to a sketch. */
  readonly maxExactValues?: number;
  /** The sketch's relative accuracy α. */
  readonly relativeAccuracy?: number;
  /** Distinct categories kept before new ones are counted under OVERFLOW_CATEGORY. */
  readonly maxCategories?: number;
}

export const DRIFT_WINDOW_DEFAULTS = { maxExactValues: 10_000, relativeAccuracy: 0.01, maxCategories: 10_000 } as const;

/** JSON-safe state: exact pairs sorted by value, or the sketch as base64 protobuf. */
export type DriftWindowSnapshot =
  | { readonly v: 1; readonly type: 'numerical'; readonly options: Required<DriftWindowOptions>; readonly exact: [number, number][] }
  | {
    readonly v: 1; readonly type: 'numerical'; readonly options: Required<DriftWindowOptions>;
    readonly sketch: string; readonly count: number; readonly min: number; readonly max: number; readonly integral: boolean;
  }
  | { readonly v: 1; readonly type: 'categorical'; readonly options: Required<DriftWindowOptions>; readonly counts: [string, number][] };

export class DriftWindow {
  readonly options: Required<DriftWindowOptions>;
  private exact: Map<number, number> | null = new Map();
  private sketch: DDSketch | null = null;
  private readonly categories = new Map<string, number>();
  private count = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private integral = true;
  /**
   * The snapshot until the window changes: a reference window is checkpointed at every window of
   * its series but never changes once taken in, and sorting its values each time cost more than
   * scoring it.
   */
  private snapshotCache: DriftWindowSnapshot | undefined;

  constructor(options: DriftWindowOptions) {
    this.options = { ...DRIFT_WINDOW_DEFAULTS, ...options };
    const { maxExactValues, relativeAccuracy, maxCategories } = this.options;
    if (!Number.isInteger(maxExactValues) || maxExactValues < 1) throw new RangeError('maxExactValues must be a positive integer');
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError('relativeAccuracy must be in (0, 1)');
    if (!Number.isInteger(maxCategories) || maxCategories < 1) throw new RangeError('maxCategories must be a positive integer');
  }

  /** Values seen (a non-finite numerical value is the caller's to reject: it is not a measurement). */
  get size(): number {
    return this.count;
  }

  get isExact(): boolean {
    return this.options.featureType === 'categorical' || this.exact !== null;
  }

  add(value: number | string, weight = 1): void {
    if (!(weight > 0 && Number.isFinite(weight))) throw new RangeError('a drift value weight must be positive and finite');
    this.snapshotCache = undefined;
    if (this.options.featureType === 'categorical') {
      this.addCategory(String(value), weight);
      return;
    }
    const v = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(v)) throw new RangeError('a numerical drift value must be finite');
    this.count += weight;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (!Number.isInteger(v)) this.integral = false;
    if (this.exact !== null) {
      this.exact.set(v, (this.exact.get(v) ?? 0) + weight);
      if (this.exact.size > this.options.maxExactValues) this.switchToSketch();
    } else {
      this.sketch!.accept(v, weight);
    }
  }

  private addCategory(category: string, weight: number): void {
    this.count += weight;
    const known = this.categories.get(category);
    if (known !== undefined) this.categories.set(category, known + weight);
    else if (category === OVERFLOW_CATEGORY || this.namedCategories() < this.options.maxCategories) this.categories.set(category, weight);
    else this.categories.set(OVERFLOW_CATEGORY, (this.categories.get(OVERFLOW_CATEGORY) ?? 0) + weight);
  }

  private namedCategories(): number {
    return this.categories.size - (this.categories.has(OVERFLOW_CATEGORY) ? 1 : 0);
  }

  private switchToSketch(): void {
    const sketch = new DDSketch({ relativeAccuracy: this.options.relativeAccuracy });
    for (const [v, c] of this.exact!) sketch.accept(v, c);
    this.sketch = sketch;
    this.exact = null;
  }

  /** Adds `other` into this window; both must have the same options. */
  merge(other: DriftWindow): void {
    // Field by field: this runs for every partial stage 2 merges (a JSON comparison cost more than the merge).
    if (!sameOptions(other.options, this.options)) throw new TypeError('drift windows with different options cannot merge');
    this.snapshotCache = undefined;
    if (this.options.featureType === 'categorical') {
      for (const [category, c] of other.categories) this.addCategory(category, c);
      return;
    }
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.integral &&= other.integral;
    if (this.exact !== null && other.exact !== null) {
      for (const [v, c] of other.exact) this.exact.set(v, (this.exact.get(v) ?? 0) + c);
      if (this.exact.size > this.options.maxExactValues) this.switchToSketch();
      return;
    }
    if (this.exact !== null) this.switchToSketch();
    if (other.exact !== null) for (const [v, c] of other.exact) this.sketch!.accept(v, c);
    else this.sketch!.merge(other.sketch!);
  }

  /**
   * A sliding union: takes `removed` (merged in earlier) out and `added` in, so this window is the
   * union of `windows` (in which `added` is, `removed` is not). Only where that is exactly the
   * union merged afresh: numerical, exact throughout, whole counts (their sums and differences are
   * exact doubles, and a sample sorts values and sums their counts in value order). Returns false
   * otherwise, and the window is then to be rebuilt by merging.
   */
  slide(removed: DriftWindow, added: DriftWindow, windows: readonly DriftWindow[]): boolean {
    const exact = this.exact;
    if (this.options.featureType !== 'numerical' || exact === null || removed.exact === null || added.exact === null) return false;
    if (!Number.isInteger(this.count) || !Number.isInteger(removed.count)) return false;
    for (const [v, c] of removed.exact) if (!Number.isInteger(c) || !Number.isInteger(exact.get(v) ?? Number.NaN)) return false;
    this.snapshotCache = undefined;
    for (const [v, c] of removed.exact) {
      const left = exact.get(v)! - c;
      if (left === 0) exact.delete(v);
      else exact.set(v, left);
    }
    this.count -= removed.count;
    this.merge(added);
    if (this.exact === null) return false;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.integral = true;
    for (const w of windows) {
      this.min = Math.min(this.min, w.min);
      this.max = Math.max(this.max, w.max);
      this.integral &&= w.integral;
    }
    return true;
  }

  /** The read-only sample the drift tests score. */
  sample(): DriftSample {
    return this.options.featureType === 'categorical' ? this.categoricalSample() : this.numericSample();
  }

  /**
   * Categories in code-unit order, not arrival order: the tests sum per category, and floating-point
   * sums follow their order, so arrival order (which partial stage 2 merged first, or a window
   * decoded from a checkpoint, which is sorted) changed the last bits of PSI, Jensen–Shannon and
   * chi-square, and a replay after a restore emitted other values than the first run.
   */
  private categoricalSample(): CategoricalSample {
    return categoricalSample(new Map([...this.categories].sort(byCategory)));
  }

  private numericSample(): NumericSample {
    if (this.exact !== null) return this.exactSample(this.exact);
    const points = this.sketchPoints();
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
    return weightedNumericSample(values, cumulative, this.integral);
  }

  /** Distinct exact values sorted as doubles (no pairs, no comparator: it runs for every window and reference). */
  private exactSample(exact: Map<number, number>): NumericSample {
    const values = Float64Array.from(exact.keys()).sort();
    const cumulative = new Float64Array(values.length);
    let running = 0;
    for (let i = 0; i < values.length; i++) cumulative[i] = running += exact.get(values[i]!)!;
    return typedNumericSample(values, cumulative, this.integral);
  }

  /** Each non-empty sketch bin as (representative value clamped to [min, max], count). */
  private sketchPoints(): [number, number][] {
    const sketch = this.sketch!;
    const clamp = (v: number): number => Math.min(this.max, Math.max(this.min, v));
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
    return points;
  }

  /** Plain data (read-only: it is kept and handed out again while the window does not change). */
  snapshot(): DriftWindowSnapshot {
    return (this.snapshotCache ??= this.takeSnapshot());
  }

  private takeSnapshot(): DriftWindowSnapshot {
    const options = this.options;
    if (options.featureType === 'categorical') {
      return { v: 1, type: 'categorical', options, counts: [...this.categories].sort(byCategory) };
    }
    if (this.exact !== null) return { v: 1, type: 'numerical', options, exact: [...this.exact].sort((a, b) => a[0] - b[0]) };
    return {
      v: 1, type: 'numerical', options, sketch: Buffer.from(this.sketch!.toProto()).toString('base64'),
      count: this.count, min: this.min, max: this.max, integral: this.integral,
    };
  }

  static restore(snapshot: DriftWindowSnapshot): DriftWindow {
    const window = new DriftWindow(snapshot.options);
    if (snapshot.type === 'categorical') {
      for (const [category, c] of snapshot.counts) window.addCategory(category, c);
    } else if ('exact' in snapshot) {
      for (const [v, c] of snapshot.exact) window.add(v, c);
    } else {
      window.exact = null;
      window.sketch = new DDSketch({ relativeAccuracy: snapshot.options.relativeAccuracy });
      window.sketch.merge(DDSketch.fromProto(Buffer.from(snapshot.sketch, 'base64')) as DDSketch);
      window.count = snapshot.count;
      window.min = snapshot.min;
      window.max = snapshot.max;
      window.integral = snapshot.integral;
      return window;
    }
    // A snapshot this class wrote (strictly ascending, within the bounds) is the restored window's own.
    const entries = snapshot.type === 'categorical' ? snapshot.counts : snapshot.exact;
    const held = snapshot.type === 'categorical' ? window.categories.size : window.exact!.size;
    if (held === entries.length && entries.every((entry, i) => i === 0 || entries[i - 1]![0] < entry[0])) window.snapshotCache = snapshot;
    return window;
  }
}

function byCategory(a: readonly [string, number], b: readonly [string, number]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function sameOptions(a: Required<DriftWindowOptions>, b: Required<DriftWindowOptions>): boolean {
  return a === b || (a.featureType === b.featureType && a.maxExactValues === b.maxExactValues && a.relativeAccuracy === b.relativeAccuracy && a.maxCategories === b.maxCategories);
}
