import type { MetricType } from './sample-record.ts';

// A metric family as the parser tracks it, what a sample is to its family, and the TYPE words.

export interface Family {
  readonly name: string;
  type: MetricType;
  typed: boolean;
  help: boolean;
  sampled: boolean;
}

// What a sample is to its family (Go's setOrCreateCurrentMF decides it from the name alone).
export const PLAIN = 0;
export const QUANTILE = 1; // a summary's own name: needs `quantile`
export const BUCKET = 2;
export const COUNT = 3;
export const SUM = 4;
export const WHOLE_HISTOGRAM = 5; // a histogram's bare name: not a sample of it
export type Role = typeof PLAIN | typeof QUANTILE | typeof BUCKET | typeof COUNT | typeof SUM | typeof WHOLE_HISTOGRAM;

export const isHistogram = (type: MetricType): boolean => type === 'histogram' || type === 'gaugehistogram';

export const METRIC_TYPES: ReadonlyMap<string, MetricType> = new Map([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['gaugehistogram', 'gaugehistogram'],
  ['gauge_histogram', 'gaugehistogram'],
  ['summary', 'summary'],
  ['untyped', 'untyped'],
]);
