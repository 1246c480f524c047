/**
 * Drift between a reference and a current window, as Evidently 0.7.23 scores it. The entry point a
 * `drift` metric kind calls once per window: `scoreDrift(referenceWindow, currentWindow, method)`.
 */
import type { DriftMethod } from './methods.ts';
import type { DriftReport, DriftResult } from './score.ts';
import { defaultDriftMethod } from './methods.ts';
import { scoreAllMethods, scoreDriftSamples } from './score.ts';
import type { DriftWindow } from './window.ts';

export { DRIFT_METHOD_SPECS, DRIFT_METHODS, defaultDriftMethod } from './methods.ts';
export type { DriftMethod } from './methods.ts';
export type { DriftReport, DriftResult } from './score.ts';
export type { FeatureType } from './sample.ts';
export { DriftWindow } from './window.ts';
export { DRIFT_WINDOW_DEFAULTS, OVERFLOW_CATEGORY } from './window-options.ts';
export type { DriftWindowOptions, DriftWindowSnapshot } from './window-options.ts';

/** One method's score and verdict; `method` 'default' picks Evidently's default for the data. */
export function scoreDrift(reference: DriftWindow, current: DriftWindow, method: DriftMethod | 'default', threshold?: number): DriftResult {
  const featureType = reference.options.featureType;
  if (current.options.featureType !== featureType) throw new TypeError('reference and current windows have different feature types');
  const ref = reference.sample();
  const cur = current.sample();
  const chosen = method === 'default' ? defaultDriftMethod(ref, cur, featureType) : method;
  return scoreDriftSamples(ref, cur, chosen, featureType, threshold);
}

/** Every applicable method's score and verdict, and Evidently's default choice. */
export function scoreDriftAll(reference: DriftWindow, current: DriftWindow): DriftReport {
  return scoreAllMethods(reference.sample(), current.sample(), reference.options.featureType);
}
