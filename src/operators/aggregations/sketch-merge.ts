import type { DDSketch } from '@datadog/sketches-js';

/**
 * `into` += `from`, for every DDSketch merge in Sluice (quantiles, drift). sketches-js 2.1.1's
 * `merge` merges only the positive store into a sketch that already has values (its copy into an
 * empty one takes both), so negative values of every merged sketch but the first were counted
 * and missing from the quantiles; the negative store is merged here.
 */
export function mergeSketch(into: DDSketch, from: DDSketch): void {
  const intoHadValues = into.count > 0;
  into.merge(from);
  if (intoHadValues) negativeStoreOf(into).merge(negativeStoreOf(from));
}

const negativeStoreOf = (sketch: DDSketch) => (sketch as unknown as { negativeStore: { merge(other: unknown): void } }).negativeStore;
