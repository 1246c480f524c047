import { z } from 'zod';
import { fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from '../aggregations/kind.ts';
import { DRIFT_METHOD_SPECS, DRIFT_METHODS } from './methods.ts';
import { DRIFT_WINDOW_DEFAULTS } from './window-options.ts';

const eventTime = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : Date.parse(value);
    if (!Number.isFinite(ms)) ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time or milliseconds since the epoch' });
    return ms;
  })
  .describe('An event time: ISO-8601 (e.g. 2026-11-01T00:00:00Z) or milliseconds since the epoch.');

const windowCount = z.number().int().min(1).max(1_000);

export const driftReferenceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('first_windows').describe('The first `windows` windows with data of each series, then fixed.'), windows: windowCount.describe('Windows in the reference.') }).strict(),
  z.object({ type: z.literal('trailing_windows').describe('The `windows` windows with data before the current one, sliding.'), windows: windowCount.describe('Windows in the reference.') }).strict(),
  z
    .object({
      type: z.literal('range').describe('Every window of the series inside [from, to) of event time; windows after `to` are scored.'),
      from: eventTime,
      to: eventTime,
    })
    .strict()
    .refine((r) => r.to > r.from, { message: '`to` must be after `from`', path: ['to'] }),
  z
    .object({
      type: z.literal('file').describe('Values from a file, the same reference for every series: a JSON array, or one value per line.'),
      path: z.string().min(1).describe('Path of the file, relative to the working directory.'),
    })
    .strict(),
]);

export type DriftReferenceConfig = z.output<typeof driftReferenceSchema>;

const driftMethodSchema = z.enum(['default', ...DRIFT_METHODS]);

/** A `drift` metric's configuration. */
export const driftMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name; emitted as `<name>{method}` (the score) and `<name>_detected{method}` (0 or 1).'),
    type: z.literal('drift').describe("A feature's distribution per window against a reference, scored as Evidently does."),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    value: fieldPath.describe('The feature: a numeric field, or any scalar field with `feature: categorical`. Records without it do not count.'),
    feature: z.enum(['numerical', 'categorical']).default('numerical').describe('How the feature is compared.'),
    methods: z
      .array(driftMethodSchema)
      .min(1)
      .default(['default'])
      .describe("Evidently's stat tests to emit; `default` is Evidently's own choice by reference size and distinct values."),
    threshold: z.number().min(0).optional().describe("Drift threshold for every method (default: each method's own, 0.1, or 0.05 for p-values)."),
    reference: driftReferenceSchema.describe('What the current window is compared with.'),
    max_exact_values: z.number().int().min(1).max(1_000_000).default(DRIFT_WINDOW_DEFAULTS.maxExactValues).describe('Distinct values a window keeps exactly before it switches to a DDSketch.'),
    relative_accuracy: z.number().gt(0).lt(1).default(DRIFT_WINDOW_DEFAULTS.relativeAccuracy).describe("The sketch's relative accuracy once a window is past max_exact_values."),
    max_categories: z.number().int().min(1).max(1_000_000).default(DRIFT_WINDOW_DEFAULTS.maxCategories).describe('Categories kept before new ones count as one overflow category.'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict()
  .superRefine((m, ctx) => {
    m.methods.forEach((method, i) => {
      if (method !== 'default' && !DRIFT_METHOD_SPECS[method].featureTypes.includes(m.feature)) {
        ctx.addIssue({ code: 'custom', message: `drift method ${method} does not apply to ${m.feature} features`, path: ['methods', i] });
      }
    });
    if (new Set(m.methods).size !== m.methods.length) ctx.addIssue({ code: 'custom', message: 'methods are listed twice', path: ['methods'] });
  });
