/**
 * Scores one feature's drift between a reference and a current sample with one or all of Evidently's
 * methods, each with its verdict, plus the method Evidently would choose by default.
 */
import type { DriftMethod } from './methods.ts';
import { DRIFT_METHOD_SPECS, DRIFT_METHODS, defaultDriftMethod } from './methods.ts';
import type { DriftSample, FeatureType } from './sample.ts';
import { distinctInUnion } from './sample.ts';

export interface DriftResult {
  readonly method: DriftMethod;
  readonly score: number;
  readonly threshold: number;
  readonly detected: boolean;
}

/** Empty samples score NaN and are never detected: there is nothing to compare. */
export function scoreDriftSamples(
  reference: DriftSample,
  current: DriftSample,
  method: DriftMethod,
  featureType: FeatureType,
  threshold?: number,
): DriftResult {
  const spec = DRIFT_METHOD_SPECS[method];
  if (!spec.featureTypes.includes(featureType)) throw new TypeError(`drift method ${method} does not apply to ${featureType} features`);
  const actualThreshold = threshold ?? spec.defaultThreshold;
  const score = reference.total === 0 || current.total === 0 ? Number.NaN : spec.score(reference, current);
  return { method, score, threshold: actualThreshold, detected: spec.isDrift(score, actualThreshold) };
}

/** The methods that apply: chi-square and z join a numerical feature with at most 5 distinct values. */
export function applicableMethods(reference: DriftSample, current: DriftSample, featureType: FeatureType): DriftMethod[] {
  if (featureType === 'categorical') return DRIFT_METHODS.filter((m) => DRIFT_METHOD_SPECS[m].featureTypes.includes('categorical'));
  const fewValues = distinctInUnion(reference, current, 6) <= 5;
  return ['psi', 'jensenshannon', 'wasserstein', 'ks', ...(fewValues ? (['chisquare', 'z'] as const) : [])];
}

export interface DriftReport {
  readonly featureType: FeatureType;
  readonly referenceSize: number;
  readonly currentSize: number;
  readonly defaultMethod: DriftMethod;
  readonly results: readonly DriftResult[];
}

export function scoreAllMethods(reference: DriftSample, current: DriftSample, featureType: FeatureType): DriftReport {
  return {
    featureType,
    referenceSize: reference.total,
    currentSize: current.total,
    defaultMethod: defaultDriftMethod(reference, current, featureType),
    results: applicableMethods(reference, current, featureType).map((m) => scoreDriftSamples(reference, current, m, featureType)),
  };
}
