import { z } from 'zod';
import { fieldPathSchema } from '../../core/field-path.ts';
import type { FieldGetter } from '../../core/field-path.ts';
import { expressionSchema } from '../transforms/expression.ts';
import type { Aggregator, MetricAbout } from './aggregator.ts';

/**
 * What a metric kind (`type:` in a pipeline's `metrics`) is: its config schema and the factory
 * that builds its aggregator from a parsed config. Each kind defines itself beside its
 * aggregator; `index.ts` lists them (one line each), and the pipeline schema, the JSON Schema
 * and the plan all follow from that list.
 */
export interface MetricKind<Config extends { readonly type: string; readonly name: string } = { readonly type: string; readonly name: string }> {
  readonly schema: KindSchema;
  /** Builds the aggregator; called once per configured metric, when the plan is compiled. */
  create(config: Config, about: MetricAbout): Aggregator<any, any>;
  /**
   * Kinds whose series take name and labels from each record (passthrough): the getters. Their
   * series groups are dynamic and never shared with other metrics.
   */
  dynamicSeries?(config: Config): { readonly name: FieldGetter; readonly labels: FieldGetter };
  /**
   * Kinds that read another metric of their series group (anomaly): called once the group's
   * aggregators exist, with this metric's (decorated) aggregator; throws when the config is unusable.
   */
  bind?(config: Config, aggregator: Aggregator<any, any>, group: SeriesGroupMetrics): void;
}

/** The metrics of one series group (the same labels), in order, with their aggregators. */
export interface SeriesGroupMetrics {
  readonly metrics: readonly { readonly type: string; readonly name: string }[];
  readonly aggregators: readonly Aggregator<any, any>[];
}

/** A kind's schema: a strict object with `type` and `name` (possibly refined). */
export type KindSchema = z.ZodType<{ readonly type: string; readonly name: string }> & { readonly _zod: { readonly propValues?: unknown } };

/** Ties a schema to its factory, typing the factory's config from the schema. */
export function defineKind<S extends z.ZodType<{ type: string; name: string }>>(
  schema: S,
  kind: Omit<MetricKind<z.output<S>>, 'schema'>,
): MetricKind<z.output<S>> & { readonly schema: S } {
  return { schema, ...kind } as MetricKind<z.output<S>> & { readonly schema: S };
}

// The fields every kind shares, so each kind's schema says only what is its own.

export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const fieldPath = fieldPathSchema;

export const metricFilter = expressionSchema('Count only records for which this is true').optional();

export const staticLabelsSchema = z
  .record(z.string().regex(LABEL_NAME, 'label names must match [a-zA-Z_][a-zA-Z0-9_]*'), z.string().min(1))
  .default({})
  .describe('Constant labels on every sample of this metric, e.g. {gen_ai_token_type: input}; two metrics may share a name when these differ.');

export const labelsSchema = z
  .record(z.string().regex(LABEL_NAME, 'label names must match [a-zA-Z_][a-zA-Z0-9_]*'), fieldPath)
  .default({})
  .describe('Output labels, each taken from a record field: `{label_name: field}`. A null field omits the label.');

export const unitSchema = z
  .string()
  .regex(/^[\x21-\x7e]*$/, 'units are printable ASCII without spaces, e.g. "s", "By", "{token}"')
  .max(64)
  .default('')
  .describe('Unit in UCUM form ("s", "By", "{token}"): remote-write 2.0 metadata, the OTLP unit (Prometheus adds the suffix, e.g. _seconds); it does not change the name.');

export const bucketsSchema = z.array(z.number().finite()).min(1).describe('Upper bounds (le) of the buckets, strictly increasing; +Inf is implied.');

export const bucketsIncrease = (m: { buckets: number[] }): boolean => m.buckets.every((b, i) => i === 0 || b > m.buckets[i - 1]!);

export const BUCKETS_INCREASE = { message: 'buckets must be strictly increasing', path: ['buckets'] };
