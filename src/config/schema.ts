import { z } from 'zod';
import { durationSchema, positiveDurationSchema } from '../core/duration.ts';
import { remoteWriteConfigSchema } from '../sinks/remote-write/config.ts';

/**
 * The pipeline config: one YAML file per pipeline under `pipelines/`. This schema is the single
 * source of truth: it validates, applies defaults, and generates `schemas/pipeline.schema.json`.
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const TENANT_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

const fieldPath = z
  .string()
  .regex(FIELD_PATH, 'expected a field path such as "latency_ms" or "usage.input_tokens"')
  .describe('A field of the decoded record; nested fields are joined with dots.');

const brokerList = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((value) => (typeof value === 'string' ? value.split(',').map((b) => b.trim()).filter(Boolean) : value))
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1, 'at least one broker is required'))
  .describe('Kafka bootstrap brokers, as a list or a comma-separated string of host:port.');

export const kafkaSourceSchema = z
  .object({
    type: z.literal('kafka').describe('Source kind. Only `kafka` for now.'),
    brokers: brokerList,
    topics: z.array(z.string().min(1)).min(1).describe('Topics to consume.'),
    group_id: z.string().min(1).describe('Consumer group id shared by every instance of this pipeline.'),
    start_from: z
      .enum(['earliest', 'latest'])
      .default('earliest')
      .describe('Where a new consumer group starts reading.'),
    client_id: z.string().default('sluice').describe('Kafka client id, shown in broker logs.'),
  })
  .strict();

export const decodeSchema = z
  .object({
    codec: z.literal('json').describe('Wire format of each message. `json`: one JSON object per message.'),
    schema: z
      .string()
      .optional()
      .describe('Avro schema (.avsc) the decoded record must satisfy; a path relative to the pipeline file.'),
    max_message_bytes: z
      .number()
      .int()
      .positive()
      .default(1_048_576)
      .describe('Messages larger than this go to the dead-letter topic as `oversized`.'),
  })
  .strict();

export const eventTimeSchema = z
  .object({
    field: fieldPath.describe('Field holding the event time.'),
    format: z
      .enum(['unix_ms', 'unix_s', 'rfc3339'])
      .default('unix_ms')
      .describe('How the field encodes time: epoch milliseconds, epoch seconds, or an RFC 3339 string.'),
  })
  .strict();

export const tenantResolutionSchema = z
  .object({
    field: fieldPath.describe('Field whose value is the tenant id; it must name a declared tenant.'),
  })
  .strict();

export const windowSchema = z
  .object({
    type: z.literal('tumbling').describe('Window kind. `tumbling`: fixed, non-overlapping, aligned to the epoch.'),
    size: positiveDurationSchema('size').describe('Window length; samples are stamped with the window end.'),
    max_out_of_orderness: durationSchema()
      .default(5_000)
      .describe('How far behind the newest event time of its partition a record may be and still be on time.'),
    allowed_lateness: durationSchema()
      .default(0)
      .describe('Extra time a window stays open after the watermark passes its end.'),
    idle_timeout: durationSchema()
      .default(30_000)
      .describe('A caught-up partition with no records for this long stops holding back the watermark.'),
  })
  .strict();

const labelsSchema = z
  .record(z.string().regex(LABEL_NAME, 'label names must match [a-zA-Z_][a-zA-Z0-9_]*'), fieldPath)
  .default({})
  .describe('Output labels, each taken from a record field: `{label_name: field}`. A null field omits the label.');

const counterMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name.'),
    type: z.literal('counter').describe('Cumulative counter: never reset by restarts; emitted as `<name>` (end it in `_total`).'),
    help: z.string().default('').describe('HELP text.'),
    value: fieldPath.optional().describe('Field to add per record; absent means count records.'),
    labels: labelsSchema,
  })
  .strict()
  .refine((m) => m.name.endsWith('_total'), { message: 'counter names must end in "_total"', path: ['name'] });

const histogramMetricSchema = z
  .object({
    name: z
      .string()
      .regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*')
      .describe('Base name; emitted as `<name>_bucket`, `<name>_sum`, `<name>_count`.'),
    type: z.literal('histogram').describe('Cumulative histogram with explicit buckets.'),
    help: z.string().default('').describe('HELP text.'),
    value: fieldPath.describe('Field observed per record.'),
    scale: z.number().positive().default(1).describe('Multiplier applied to the value, e.g. 0.001 for ms → s.'),
    buckets: z
      .array(z.number().finite())
      .min(1)
      .describe('Upper bounds (le) of the buckets, strictly increasing; +Inf is implied.'),
    labels: labelsSchema,
  })
  .strict()
  .refine((m) => m.buckets.every((b, i) => i === 0 || b > m.buckets[i - 1]!), {
    message: 'buckets must be strictly increasing',
    path: ['buckets'],
  });

export const metricSchema = z.discriminatedUnion('type', [counterMetricSchema, histogramMetricSchema]);

export const deadLetterSchema = z
  .object({
    topic: z.string().min(1).describe('Topic that receives rejected records with the reason in headers.'),
  })
  .strict();

export const telemetrySchema = z
  .object({
    listen: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')
      .default('127.0.0.1:9464')
      .describe('Address of the /metrics, /healthz and /readyz endpoint; port 0 picks a free port.'),
  })
  .strict();

export const pipelineSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'pipeline names are lower-case letters, digits and dashes')
      .describe('Pipeline name; internal topic names derive from it.'),
    source: kafkaSourceSchema,
    decode: decodeSchema,
    event_time: eventTimeSchema,
    tenant: tenantResolutionSchema,
    window: windowSchema,
    metrics: z.array(metricSchema).min(1).describe('Metrics computed per window and tenant.'),
    dead_letter: deadLetterSchema,
    tenants: z
      .record(z.string().regex(TENANT_ID, 'tenant ids are 1-64 letters, digits, "_", "." or "-"'), remoteWriteConfigSchema)
      .refine((t) => Object.keys(t).length > 0, { message: 'declare at least one tenant' })
      .describe('Tenants and their remote-write endpoints; a tenant\'s samples go only to its endpoint.'),
    telemetry: telemetrySchema.default({ listen: '127.0.0.1:9464' }),
  })
  .strict()
  .superRefine((pipeline, ctx) => {
    const seen = new Map<string, number>();
    pipeline.metrics.forEach((metric, index) => {
      const previous = seen.get(metric.name);
      if (previous !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate metric name "${metric.name}" (also metrics[${previous}])`,
          path: ['metrics', index, 'name'],
        });
      }
      seen.set(metric.name, index);
    });
  });

export type PipelineConfig = z.output<typeof pipelineSchema>;
export type MetricConfig = z.output<typeof metricSchema>;
export type WindowConfig = z.output<typeof windowSchema>;
