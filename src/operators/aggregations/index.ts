import { z } from 'zod';
import { anomalyKind } from '../anomaly/aggregation.ts';
import { driftKind } from '../drift/aggregation.ts';
import { dataQualityKind } from './data-quality.ts';
import { childCountKind } from './child-count.ts';
import { counterRateKind } from './counter-rate.ts';
import { counterKind } from './counter.ts';
import { distinctKind } from './distinct.ts';
import { histogramKind } from './histogram.ts';
import type { MetricKind } from './kind.ts';
import { passthroughKind } from './passthrough.ts';
import { quantilesKind } from './quantiles.ts';
import { rollupKind } from './rollup.ts';
import { gaugeKind } from './window-gauge.ts';

/**
 * Every metric kind, one line each: adding a kind is its file (aggregator, config schema,
 * factory, as `defineKind`) and a line here. The order is the pipeline JSON Schema's.
 */
const KINDS = [
  driftKind,
  anomalyKind,
  dataQualityKind,
  childCountKind,
  passthroughKind,
  rollupKind,
  counterRateKind,
  counterKind,
  histogramKind,
  gaugeKind,
  quantilesKind,
  distinctKind,
] as const;

/** The kinds' schemas, as the tuple `discriminatedUnion` types its options from. */
function schemasOf<T extends readonly { readonly schema: z.ZodType }[]>(kinds: T): { -readonly [K in keyof T]: T[K]['schema'] } {
  return kinds.map((kind) => kind.schema) as { -readonly [K in keyof T]: T[K]['schema'] };
}

/** One entry of the pipeline's `metrics`: the kind chosen by `type`, with its own fields. */
export const metricSchema = z.discriminatedUnion('type', schemasOf(KINDS));

export type MetricConfig = z.output<typeof metricSchema>;

const BY_TYPE = new Map<string, MetricKind<MetricConfig>>(KINDS.map((kind) => [kind.schema.shape.type.value, kind as unknown as MetricKind<MetricConfig>]));

/** The kind of a parsed metric config. */
export function kindOf(config: MetricConfig): MetricKind<MetricConfig> {
  const kind = BY_TYPE.get(config.type);
  if (kind === undefined) throw new Error(`unknown metric type "${config.type}"`);
  return kind;
}
