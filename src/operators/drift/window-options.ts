/** A drift window's options (defaults filled in once per options object) and checkpoint form. */
import type { FeatureType } from './sample.ts';

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

/**
 * Options with the defaults filled in and checked, once per options object: the aggregator creates
 * a window per series and window with the same object, and equal objects make merges' option check
 * an identity test.
 */
const resolved = new WeakMap<DriftWindowOptions, Required<DriftWindowOptions>>();

export function resolveOptions(options: DriftWindowOptions): Required<DriftWindowOptions> {
  const known = resolved.get(options);
  if (known !== undefined) return known;
  const full = { ...DRIFT_WINDOW_DEFAULTS, ...options };
  const { maxExactValues, relativeAccuracy, maxCategories } = full;
  if (!Number.isInteger(maxExactValues) || maxExactValues < 1) throw new RangeError('maxExactValues must be a positive integer');
  if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError('relativeAccuracy must be in (0, 1)');
  if (!Number.isInteger(maxCategories) || maxCategories < 1) throw new RangeError('maxCategories must be a positive integer');
  resolved.set(options, full);
  resolved.set(full, full);
  return full;
}

/** Equal options: windows built with them merge. */
export function sameOptions(a: Required<DriftWindowOptions>, b: Required<DriftWindowOptions>): boolean {
  return a === b || (a.featureType === b.featureType && a.maxExactValues === b.maxExactValues && a.relativeAccuracy === b.relativeAccuracy && a.maxCategories === b.maxCategories);
}
