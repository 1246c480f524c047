import { z } from 'zod';
import { durationSchema, positiveDurationSchema } from '../core/duration.ts';
import { fieldPathSchema } from '../core/field-path.ts';
import { expressionBudgetSchema } from '../operators/transforms/cost-meter.ts';
import { transformSchema } from '../operators/transforms/index.ts';
import { decodeConfigSchema } from '../codecs/index.ts';
import { metricSchema } from '../operators/aggregations/index.ts';
import { tenantsConfigSchema } from '../sinks/registry.ts';
import { pipelineTestsSchema } from '../testing/config.ts';

/**
 * The pipeline config: one YAML file per pipeline under `pipelines/`. This schema is the single
 * source of truth: it validates, applies defaults, and generates `schemas/pipeline.schema.json`.
 */

const fieldPath = fieldPathSchema;

/** `host:port` with a port a socket can use (a larger one passes a regex and fails at start-up). */
const hostPort = () =>
  z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')
    .refine((address) => Number(address.slice(address.lastIndexOf(':') + 1)) <= 65_535, 'the port must be at most 65535');

/**
 * Kafka's own topic rule (Topic.validate in the Kafka clients): legal characters only, at most
 * 249 of them, not "." or "..". The broker refuses anything else when the topic is created.
 */
const KAFKA_TOPIC_MAX_LENGTH = 249;
const topicName = (what: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/, 'Kafka topic names use only letters, digits, ".", "_" and "-"')
    .max(KAFKA_TOPIC_MAX_LENGTH, `Kafka topic names are at most ${KAFKA_TOPIC_MAX_LENGTH} characters`)
    .refine((topic) => topic !== '.' && topic !== '..', 'a Kafka topic cannot be named "." or ".."')
    .describe(what);

/** The internal topic `sluice.<name>.partials` must be a legal topic name too. */
const PIPELINE_NAME_MAX_LENGTH = KAFKA_TOPIC_MAX_LENGTH - 'sluice.'.length - '.partials'.length;

/** Where ioredis connects; never echoed in a message, as it may hold a password. */
const redisUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a URL such as redis://host:6379/0 or rediss://host:6380' });
    return;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    ctx.addIssue({ code: 'custom', message: 'redis_url must start with redis:// or rediss:// (TLS)' });
  } else if (url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'redis_url names no host' });
  } else if (!/^\/?\d*$/.test(url.pathname)) {
    ctx.addIssue({ code: 'custom', message: 'the database in redis_url must be a number, as in redis://host:6379/0' });
  }
});

const brokerList = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((value) => (typeof value === 'string' ? value.split(',').map((b) => b.trim()).filter(Boolean) : value))
  .pipe(z.array(hostPort()).min(1, 'at least one broker is required'))
  .describe('Kafka bootstrap brokers, as a list or a comma-separated string of host:port.');

export const kafkaSourceSchema = z
  .object({
    type: z.literal('kafka').describe('Source kind. Only `kafka` for now.'),
    brokers: brokerList,
    topics: z.array(topicName('A topic to consume.')).min(1).describe('Topics to consume.'),
    group_id: z.string().min(1).describe('Consumer group id shared by every instance of this pipeline.'),
    start_from: z
      .enum(['earliest', 'latest'])
      .default('earliest')
      .describe('Where a new consumer group starts reading.'),
    client_id: z.string().default('sluice').describe('Kafka client id, shown in broker logs.'),
    max_message_bytes: z
      .number()
      .int()
      .positive()
      .default(1_048_576)
      .describe('Messages larger than this go to the dead-letter topic as `oversized`, undecoded.'),
    session_timeout: positiveDurationSchema('session_timeout')
      .prefault('30s')
      .describe('How long the consumer groups wait for a silent instance before moving its partitions.'),
  })
  .strict();

export const decodeSchema = decodeConfigSchema;

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
    field: fieldPath.describe('Field whose value is the tenant id (or, with `map`, the key to look up).'),
    map: z
      .record(z.string(), z.string())
      .optional()
      .describe('Mapping from the field\'s value (a namespace, workspace or node) to a tenant id; unmapped values are unroutable.'),
  })
  .strict();

const eventTimeBounds = {
  max_out_of_orderness: durationSchema()
    .default(5_000)
    .describe('How far behind the newest event time of its partition a record may be and still be on time.'),
  allowed_lateness: durationSchema()
    .default(0)
    .describe('Extra time a window stays open after the watermark passes its end; records this much later still count.'),
  idle_timeout: durationSchema()
    .default(30_000)
    .describe('A caught-up partition with no records for this long stops holding back the watermark.'),
};

const tumblingWindowSchema = z
  .object({
    type: z.literal('tumbling').describe('Fixed, non-overlapping windows aligned to the epoch.'),
    size: positiveDurationSchema('size').describe('Window length; samples are stamped with the window end.'),
    ...eventTimeBounds,
  })
  .strict();

const hoppingWindowSchema = z
  .object({
    type: z.literal('hopping').describe('Overlapping windows of `size` starting every `slide`, aligned to the epoch.'),
    size: positiveDurationSchema('size').describe('Window length.'),
    slide: positiveDurationSchema('slide').describe('Distance between window starts; `size` must be a multiple of it.'),
    ...eventTimeBounds,
  })
  .strict()
  .refine((w) => w.size % w.slide === 0, { message: 'size must be a whole multiple of slide', path: ['size'] });

const sessionWindowSchema = z
  .object({
    type: z.literal('session').describe('Per-series windows that close after `gap` without records.'),
    gap: positiveDurationSchema('gap').describe('Inactivity that ends a session; samples are stamped with last event + gap.'),
    ...eventTimeBounds,
  })
  .strict();

export const windowSchema = z.discriminatedUnion('type', [tumblingWindowSchema, hoppingWindowSchema, sessionWindowSchema]);

export const stateSchema = z
  .object({
    backend: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('Where stage 2 checkpoints its state: `memory` (embedded; lost on restart) or `redis`.'),
    redis_url: redisUrl.optional().describe('redis://host:port[/db] of the Redis (or Redis Cluster node) to use.'),
    checkpoint_interval: positiveDurationSchema('checkpoint_interval')
      .prefault('1s')
      .describe('How often stage 2 checkpoints its state, input offsets and outbox in one atomic write.'),
    max_outbox_samples: z
      .number()
      .int()
      .positive()
      .default(2_000_000)
      .describe('Unacknowledged samples a stage-2 partition may hold before it pauses its input.'),
  })
  .strict()
  .refine((s) => s.backend !== 'redis' || s.redis_url !== undefined, {
    message: 'redis_url is required when backend is redis',
    path: ['redis_url'],
  });

export const repartitionSchema = z
  .object({
    partitions: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(6)
      .describe('Partitions of the internal topic sluice.<pipeline>.partials: the stage-2 parallelism.'),
    flush_interval: positiveDurationSchema('flush_interval')
      .prefault('1s')
      .describe('How often stage 1 flushes partials and commits source offsets in one transaction.'),
    partials_wire: z
      .union([z.literal(1), z.literal(2)])
      .default(2)
      .describe('Wire version stage 1 writes partials in. 1 while any instance of a release before version 2 still runs (README "Upgrading instances"); stage 2 reads both.'),
    skip_unreadable: z
      .array(
        z
          .object({
            partition: z.number().int().min(0).max(1023).describe('Partition of the partials topic (the `partition` of the log line and of `sluice_partition_stalled_since_seconds{stage="2"}`).'),
            offset: z.number().int().min(0).describe('Offset of the message the partition waits on (the `offset` of the log line).'),
          })
          .strict(),
      )
      .default([])
      .describe(
        'Partials messages stage 2 may move past when it cannot decode them, losing their partials (README "Upgrading instances"). Only an unreadable message is ever skipped: a listed one that decodes is processed as usual. Remove an entry once its partition has moved on.',
      ),
  })
  .strict()
  .superRefine((repartition, ctx) => {
    const seen = new Map<string, number>();
    repartition.skip_unreadable.forEach(({ partition, offset }, index) => {
      if (partition >= repartition.partitions) {
        ctx.addIssue({
          code: 'custom',
          message: `partition ${partition} does not exist: the partials topic has ${repartition.partitions} (0 to ${repartition.partitions - 1})`,
          path: ['skip_unreadable', index, 'partition'],
        });
      }
      const key = `${partition}@${offset}`;
      const previous = seen.get(key);
      if (previous !== undefined) {
        ctx.addIssue({ code: 'custom', message: `partition ${partition}, offset ${offset} is listed twice (also skip_unreadable[${previous}])`, path: ['skip_unreadable', index] });
      }
      seen.set(key, index);
    });
  });

export const seriesSchema = z
  .object({
    expire_after: positiveDurationSchema('expire_after')
      .prefault('5m')
      .describe('A series with no records for this long (event time) gets a stale marker and its state is dropped.'),
  })
  .strict();

export const deadLetterSchema = z
  .object({
    topic: topicName('Topic that receives rejected records with the reason in headers.'),
  })
  .strict();

export const tenantRegistrySchema = z
  .object({
    redis_url: redisUrl.describe('redis://host:port[/db] of the Redis holding the registry.'),
    key_prefix: z
      .string()
      .min(1)
      .default('sluice:tenants:')
      .describe('A tenant is the hash at <key_prefix><tenant id>; its fields are listed in README "Operating Sluice".'),
    poll_interval: positiveDurationSchema('poll_interval')
      .prefault('5s')
      .refine((ms) => ms >= 1_000 && ms <= 300_000, 'poll_interval must be between 1s and 5m')
      .describe('How often the registry is read; a tenant added or removed there applies within this time.'),
  })
  .strict();

export const telemetrySchema = z
  .object({
    listen: hostPort()
      .default('127.0.0.1:9464')
      .describe('Address of the telemetry server (/metrics, /healthz, /readyz, the /status page and /status.json, /tap, /-/reload); port 0 picks a free port. With several pipelines in one process, the address in the first file serves them all.'),
  })
  .strict();

export const pipelineSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'pipeline names are lower-case letters, digits and dashes')
      .max(PIPELINE_NAME_MAX_LENGTH, `pipeline names are at most ${PIPELINE_NAME_MAX_LENGTH} characters, so the internal topic name stays within Kafka's limit`)
      .describe('Pipeline name; internal topic names derive from it.'),
    source: kafkaSourceSchema,
    decode: decodeSchema,
    event_time: eventTimeSchema,
    tenant: tenantResolutionSchema,
    constants: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.unknown())
      .default({})
      .describe('Named values that expressions can read, such as price tables.'),
    transforms: z.array(transformSchema).default([]).describe('Filters, computed fields and relabelling, applied in order before tenant resolution.'),
    expression_budget: expressionBudgetSchema.prefault({}).describe('Work one record may cost its transform expressions; over it the record is dead-lettered as budget_exceeded.'),
    window: windowSchema,
    state: stateSchema.prefault({}),
    repartition: repartitionSchema.prefault({}),
    series: seriesSchema.prefault({}),
    metrics: z.array(metricSchema).min(1).describe('Metrics computed per window and tenant.'),
    dead_letter: deadLetterSchema,
    tenants: tenantsConfigSchema,
    tenant_registry: tenantRegistrySchema
      .optional()
      .describe('More tenants, from hashes in Redis, watched: a tenant declared under `tenants:` wins over a registry entry of the same id.'),
    telemetry: telemetrySchema.default({ listen: '127.0.0.1:9464' }),
    tests: pipelineTestsSchema.optional(),
  })
  .strict()
  .superRefine((pipeline, ctx) => {
    const seen = new Map<string, number>();
    pipeline.metrics.forEach((metric, index) => {
      // Metrics may share a name when their static labels tell their series apart.
      const statics = 'static_labels' in metric ? metric.static_labels : {};
      const identity = `${metric.name}${JSON.stringify(Object.entries(statics).sort())}`;
      const previous = seen.get(identity);
      if (previous !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate metric name "${metric.name}" (also metrics[${previous}])`,
          path: ['metrics', index, 'name'],
        });
      }
      seen.set(identity, index);
    });
  });

export type PipelineConfig = z.output<typeof pipelineSchema>;
export { metricSchema, type MetricConfig } from '../operators/aggregations/index.ts';
export type WindowConfig = z.output<typeof windowSchema>;
