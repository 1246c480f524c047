/**
 * One window's worth of a drift feature, mergeable across partitions and panes and checkpointable.
 *
 * Numerical: exact while the window holds at most `maxExactValues` distinct values (distinct values
 * with their counts, so a feature with few distinct values, such as status codes or token buckets,
 * stays exact at any volume). Past the bound it switches to a DDSketch (Datadog's, relative accuracy α, default
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
import { mergeSketch } from '../aggregations/sketch-merge.ts';
import type { CategoricalSample, DriftSample, FeatureType, NumericSample } from './sample.ts';
import { categoricalSample, typedNumericSample } from './sample.ts';
import { decodeWindowBytes, encodeExactWindow, encodeSketchWindow, type SketchFields } from './window-bytes.ts';
import { acceptAll, addBins, sketchSample } from './window-sketch.ts';
import { OVERFLOW_CATEGORY, resolveOptions, sameOptions, type DriftWindowOptions, type DriftWindowSnapshot } from './window-options.ts';
import { countedRuns, EMPTY_COUNTS, mergeSorted, runningSums, scratchLayout, sortedRuns, type SortedCounts } from './sorted-counts.ts';
import { UnionSlider } from './union-slider.ts';

const NO_CATEGORIES = new Map<string, number>();
/** Raw values a window holds before it sorts them into its counts: bounds a stage-1 window's memory. */
const PENDING_MAX = 4096;

export class DriftWindow {
  readonly options: Required<DriftWindowOptions>;
  /**
   * Exact numerical values: the sorted form (shared read-only once built) plus the raw values added
   * since (`pending`, with their weights when one is not 1), sorted into it by `settle` before
   * anything reads the window. Appending is one store per record where a value → count map cost a
   * hash lookup and insert (~80 ns), and a window's values are sorted once either way. Plain arrays:
   * they grow on the JS heap, where growing a typed array allocated outside it four times a window.
   * Null (and nothing pending) once sketched.
   */
  private sorted: SortedCounts | null = null;
  private pending: number[] | null = null;
  private pendingWeights: number[] | null = null;
  private sketch: DDSketch | null = null;
  /** A numerical window's is one shared empty map, never written: a Map per window cost more than its values' append. */
  private readonly categories: Map<string, number>;
  private count = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private integral = true;
  /** Kept until the window changes: a reference window is checkpointed at every window of its series, never changed. */
  private snapshotCache: DriftWindowSnapshot | undefined;
  private bytesCache: Uint8Array | undefined;
  private sampleCache: DriftSample | undefined;
  /** A trailing union's slide state (its buffers, written in turn: see slide). */
  private slider: UnionSlider | null = null;

  constructor(options: DriftWindowOptions) {
    this.options = resolveOptions(options);
    this.categories = this.options.featureType === 'categorical' ? new Map() : NO_CATEGORIES;
  }

  /** Values seen (a non-finite numerical value is the caller's to reject: it is not a measurement). */
  get size(): number {
    return this.count;
  }

  get isExact(): boolean {
    this.settle();
    return this.sketch === null;
  }

  add(value: number | string, weight = 1): void {
    if (!(weight > 0 && Number.isFinite(weight))) throw new RangeError('a drift value weight must be positive and finite');
    this.changed();
    if (this.options.featureType === 'categorical') {
      this.addCategory(String(value), weight);
      return;
    }
    let v = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(v)) throw new RangeError('a numerical drift value must be finite');
    if (v === 0) v = 0; // -0 counts as 0 (one distinct value, as pandas' value_counts has it)
    this.observe(v, weight);
    if (this.sketch === null) this.append(v, weight);
    else this.sketch.accept(v, weight);
  }

  /** add(value) of one stage-1 reading (weight 1, finite for a numerical feature): an append while the window collects raw values, add's checks otherwise (~28 -> ~12 ns a record). */
  addReading(value: number | string): void {
    const pending = this.pending;
    if (typeof value !== 'number' || pending === null || this.pendingWeights !== null || pending.length >= PENDING_MAX || !Number.isFinite(value)) {
      this.add(value);
      return;
    }
    this.changed();
    const v = value === 0 ? 0 : value; // -0 counts as 0
    this.observe(v, 1);
    pending.push(v);
  }

  /** The window's count, range and integrality with a numerical value taken in. */
  private observe(v: number, weight: number): void {
    this.count += weight;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (this.integral && !Number.isInteger(v)) this.integral = false;
  }

  private append(v: number, weight: number): void {
    const pending = (this.pending ??= []);
    if (pending.length >= PENDING_MAX) {
      this.settle();
      if (this.sketch !== null) {
        this.sketch.accept(v, weight);
        return;
      }
    }
    if (weight !== 1 && this.pendingWeights === null) this.pendingWeights = pending.map(() => 1);
    pending.push(v);
    this.pendingWeights?.push(weight);
  }

  /** Sorts the values added since into the sorted form (sketching the window past maxExactValues). */
  private settle(): void {
    const pending = this.pending;
    if (pending === null || pending.length === 0) return;
    // Whole values in a narrow span are counted, not sorted (the window's bounds hold the pending values).
    const runs = (this.pendingWeights === null && this.integral ? countedRuns(pending, this.min, this.max) : undefined) ?? sortedRuns(pending, this.pendingWeights);
    pending.length = 0;
    this.pendingWeights = null;
    this.sorted = this.sorted === null || this.sorted.values.length === 0 ? runs : mergeSorted(this.sorted, runs);
    if (this.sorted.values.length > this.options.maxExactValues) this.switchToSketch();
  }

  private changed(): void {
    this.snapshotCache = undefined;
    this.bytesCache = undefined;
    this.sampleCache = undefined;
  }

  /** The sorted form of an exact numerical window (undefined: categorical or sketched). */
  exactForm(): SortedCounts | undefined {
    this.settle();
    return this.options.featureType === 'numerical' && this.sketch === null ? this.sortedExact() : undefined;
  }

  /** The sorted form of an exact window (settled). */
  private sortedExact(): SortedCounts {
    this.settle();
    return this.sorted ?? EMPTY_COUNTS;
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
    this.settle();
    if (this.sorted !== null) acceptAll(sketch, this.sorted);
    this.sketch = sketch;
    this.sorted = null;
    this.pending = null;
  }

  /** Adds `other` into this window; both must have the same options. */
  merge(other: DriftWindow): void {
    // Field by field: this runs for every partial stage 2 merges (a JSON comparison cost more than the merge).
    if (!sameOptions(other.options, this.options)) throw new TypeError('drift windows with different options cannot merge');
    this.changed();
    this.settle();
    other.settle();
    if (this.options.featureType === 'categorical') {
      for (const [category, c] of other.categories) this.addCategory(category, c);
      return;
    }
    const wasEmpty = this.count === 0;
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.integral &&= other.integral;
    if (this.sketch === null && other.sketch === null) {
      if (wasEmpty) {
        // Stage 2 merges each partial into a fresh window: share its sorted form instead of copying.
        this.sorted = other.sortedExact();
      } else {
        this.sorted = mergeSorted(this.sortedExact(), other.sortedExact());
        if (this.sorted.values.length > this.options.maxExactValues) this.switchToSketch();
      }
      return;
    }
    if (this.sketch === null) this.switchToSketch();
    if (other.sketch !== null) mergeSketch(this.sketch!, other.sketch);
    else acceptAll(this.sketch!, other.sortedExact());
  }

  /**
   * A sliding union: takes `removed` (merged in earlier) out and `added` in, so this window is the
   * union of `windows` (in which `added` is, `removed` is not). Only where that is exactly the
   * union merged afresh: numerical, exact throughout, whole counts (their sums and differences are
   * exact doubles). Returns false otherwise, and the window is then to be rebuilt by merging. One
   * walk over the sorted forms (UnionSlider), into two sets of buffers used in turn: the union
   * slid at one window (and its sample) stays as it is until the slide after next.
   */
  slide(removed: DriftWindow, added: DriftWindow, windows: readonly DriftWindow[]): boolean {
    this.settle();
    removed.settle();
    added.settle();
    if (this.options.featureType !== 'numerical' || this.sketch !== null || removed.sketch !== null || added.sketch !== null) return false;
    if (!Number.isInteger(this.count) || !Number.isInteger(removed.count)) return false;
    const next = (this.slider ??= new UnionSlider()).slide(this.sortedExact(), removed.sortedExact(), added.sortedExact());
    if (next === undefined || next.values.length > this.options.maxExactValues) return false;
    this.changed();
    this.sorted = next;
    this.count += added.count - removed.count;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.integral = true;
    for (const w of windows) {
      this.min = Math.min(this.min, w.min);
      this.max = Math.max(this.max, w.max);
      this.integral &&= w.integral;
    }
    this.sampleCache = typedNumericSample(next.values, next.cumulative, this.integral);
    return true;
  }

  /** A copy that shares this window's read-only forms (what a reference keeps of a scored window). */
  copy(): DriftWindow {
    this.settle();
    if (this.options.featureType === 'categorical' || this.sketch !== null) return DriftWindow.restore(this.snapshot());
    const window = new DriftWindow(this.options);
    const sorted = this.sortedExact();
    // Slide buffers are rewritten two slides on: a copy takes its own arrays.
    window.sorted = this.slider === null ? sorted : { values: sorted.values.slice(), counts: sorted.counts.slice() };
    window.count = this.count;
    window.min = this.min;
    window.max = this.max;
    window.integral = this.integral;
    window.snapshotCache = this.snapshotCache;
    window.bytesCache = this.bytesCache;
    window.sampleCache = this.slider === null ? this.sampleCache : undefined;
    return window;
  }

  /** The read-only sample the drift tests score. */
  sample(): DriftSample {
    this.settle();
    return (this.sampleCache ??= this.options.featureType === 'categorical' ? this.categoricalSample() : this.numericSample());
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
    if (this.sketch === null) {
      const { values, counts, cumulative } = this.sortedExact();
      return typedNumericSample(values, cumulative ?? runningSums(counts), this.integral);
    }
    return sketchSample(this.sketch, this.min, this.max, this.integral);
  }

  /** Plain data (read-only: it is kept and handed out again while the window does not change). */
  snapshot(): DriftWindowSnapshot {
    this.settle();
    return (this.snapshotCache ??= this.takeSnapshot());
  }

  private takeSnapshot(): DriftWindowSnapshot {
    const options = this.options;
    if (options.featureType === 'categorical') {
      return { v: 1, type: 'categorical', options, counts: [...this.categories].sort(byCategory) };
    }
    if (this.sketch === null) {
      const { values, counts } = this.sortedExact();
      return { v: 1, type: 'numerical', options, exact: Array.from(values, (v, i): [number, number] => [v, counts[i]!]) };
    }
    return {
      v: 1, type: 'numerical', options, sketch: Buffer.from(this.sketch.toProto()).toString('base64'),
      count: this.count, min: this.min, max: this.max, integral: this.integral,
    };
  }

  /**
   * The wire form (partials and checkpoints) without the options: version-2 bytes for a numerical
   * window (window-bytes.ts), the plain snapshot for a categorical one. Read-only, kept while the
   * window does not change.
   */
  wire(): unknown {
    if (this.options.featureType === 'categorical') {
      const { options: _options, ...plain } = this.snapshot();
      return plain;
    }
    this.settle();
    return (this.bytesCache ??= this.sketch === null ? encodeExactWindow(this.sortedExact()) : encodeSketchWindow(this.sketchFields()));
  }

  /**
   * wire()'s bytes for a caller that copies them at once (the partials wire): a stage-1 window's raw
   * values counted into scratch memory the next call reuses, the window left as it was (dropped after its flush).
   */
  wireOnce(): unknown {
    const pending = this.pending;
    if (this.sorted !== null || pending === null || pending.length === 0 || this.pendingWeights !== null) return this.wire();
    const runs = (this.integral ? countedRuns(pending, this.min, this.max, scratchLayout) : undefined) ?? sortedRuns(pending, null, scratchLayout);
    return runs.values.length > this.options.maxExactValues ? this.wire() : encodeExactWindow(runs);
  }

  private sketchFields(): SketchFields {
    const { store, negativeStore, zeroCount } = this.sketch!;
    return {
      count: this.count, min: this.min, max: this.max, integral: this.integral, zeroCount,
      positive: { offset: store.offset, bins: store.bins }, negative: { offset: negativeStore.offset, bins: negativeStore.bins },
    };
  }

  /** A window from `wire()`'s form, or from a version-1 snapshot without its options. */
  static fromWire(wire: unknown, options: Required<DriftWindowOptions>): DriftWindow {
    if (!(wire instanceof Uint8Array)) return DriftWindow.restore({ ...(wire as object), options } as DriftWindowSnapshot);
    if (options.featureType !== 'numerical') throw new TypeError('a numerical drift window on the wire of a categorical feature');
    const decoded = decodeWindowBytes(wire);
    const window = new DriftWindow(options);
    if (decoded.form === 'exact') {
      const { values, counts, wire: laidOut } = decoded.sorted;
      const cumulative = decoded.sums;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        const c = counts[i]!;
        if (!Number.isFinite(v) || (i > 0 && !(values[i - 1]! < v)) || !(c > 0 && Number.isFinite(c))) throw new RangeError('a drift window on the wire is not sorted, finite and positive');
        cumulative[i] = window.count += c; // the running sums a sample needs, as runningSums adds them
        if (!Number.isInteger(v)) window.integral = false;
      }
      window.sorted = { values, counts, wire: laidOut, cumulative };
      if (values.length > 0) [window.min, window.max] = [values[0]!, values[values.length - 1]!];
      // Written under a larger max_exact_values (the configuration changed): sketched as adding would.
      if (values.length > options.maxExactValues) window.switchToSketch();
      return window;
    }
    const sketch = new DDSketch({ relativeAccuracy: options.relativeAccuracy });
    addBins(sketch.store, decoded.positive);
    addBins(sketch.negativeStore, decoded.negative);
    if (!(decoded.zeroCount >= 0 && Number.isFinite(decoded.zeroCount))) throw new RangeError('a drift sketch on the wire has a bad zero count');
    sketch.zeroCount = decoded.zeroCount;
    sketch.count = sketch.store.count + sketch.negativeStore.count + decoded.zeroCount;
    window.sketch = sketch;
    window.count = decoded.count;
    window.min = decoded.min;
    window.max = decoded.max;
    window.integral = decoded.integral;
    return window;
  }

  static restore(snapshot: DriftWindowSnapshot): DriftWindow {
    if (snapshot.type !== snapshot.options.featureType) throw new TypeError(`a ${snapshot.type} drift window restored for a ${snapshot.options.featureType} feature`); // a reload changed the feature's type
    const window = new DriftWindow(snapshot.options);
    if (snapshot.type === 'categorical') {
      for (const [category, c] of snapshot.counts) window.addCategory(category, c);
    } else if ('exact' in snapshot) {
      for (const [v, c] of snapshot.exact) window.add(v, c);
    } else {
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
    const held = snapshot.type === 'categorical' ? window.categories.size : window.isExact ? window.sortedExact().values.length : -1;
    if (held === entries.length && entries.every((entry, i) => i === 0 || entries[i - 1]![0] < entry[0])) window.snapshotCache = snapshot;
    return window;
  }
}

const byCategory = (a: readonly [string, number], b: readonly [string, number]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
