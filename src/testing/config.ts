import { z } from 'zod';
import { DEAD_LETTER_REASONS } from '../core/dead-letter-reason.ts';

/**
 * The `tests:` section of a pipeline file: unit tests that `sluice test` runs offline through the
 * pipeline's own ingest, stage-1 and stage-2 code (as `vector test` runs a config's tests).
 */

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A time written as epoch milliseconds or as an RFC 3339 string (`2026-11-30T12:00:10Z`). */
const timeSchema = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .refine((text) => !Number.isNaN(Date.parse(text)), 'expected epoch milliseconds or an RFC 3339 time such as "2026-11-30T12:00:10Z"')
      .transform((text) => Date.parse(text)),
  ])
  .describe('Epoch milliseconds, or an RFC 3339 time.');

const INPUT_BODIES = ['json', 'avro_json', 'otlp_json', 'text'] as const;

export const testInputSchema = z
  .object({
    topic: z.string().optional().describe('Source topic the message arrives on; may be left out when the pipeline reads one topic.'),
    partition: z.number().int().nonnegative().default(0).describe('Source partition: each has its own watermark, as in production.'),
    key: z.string().optional().describe('The Kafka message key (prometheus_text reads grouping labels from it).'),
    headers: z.record(z.string(), z.string()).default({}).describe('Kafka message headers, e.g. `push_time_ms` for prometheus_text.'),
    json: z.unknown().optional().describe('The message as a JSON value (codec json): written as JSON text.'),
    avro_json: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('The record in Avro\'s JSON encoding (codec avro): encoded with the writer schema, in the Confluent wire format when the pipeline uses it.'),
    schema_id: z.number().int().nonnegative().optional().describe('With `avro_json` and `framing: confluent`: which of `schema_ids` writes it (default: the lowest id).'),
    otlp_json: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('An OTLP/JSON ExportTraceServiceRequest (codecs otlp_json and otlp_proto): sent as JSON text, or encoded to protobuf for otlp_proto.'),
    text: z.string().optional().describe('The message bytes as text, sent as written (exposition text, a JSON line, anything malformed).'),
  })
  .strict()
  .superRefine((input, ctx) => {
    const bodies = INPUT_BODIES.filter((body) => input[body] !== undefined);
    if (bodies.length !== 1) ctx.addIssue({ code: 'custom', message: `an input has exactly one of ${INPUT_BODIES.join(', ')} (found ${bodies.length === 0 ? 'none' : bodies.join(', ')})` });
  })
  .describe('One Kafka message fed to the pipeline; its records carry their own event times, as in production.');

export const expectedSampleSchema = z
  .object({
    name: z.string().min(1).describe('Metric name as the receiver sees it (`__name__`), e.g. `..._bucket` for a histogram bucket.'),
    labels: z
      .record(z.string().regex(LABEL_NAME, 'expected a Prometheus label name'), z.string())
      .default({})
      .describe('Every label of the series besides `__name__`: a series is matched by its whole label set.'),
    value: z.number().describe('Expected value (compared with a relative tolerance of 1e-9).'),
    timestamp: timeSchema
      .optional()
      .describe('The window end the sample is stamped with; left out, the series\' last sample (its value once every window closed) is compared.'),
  })
  .strict();

export const expectedDeadLetterSchema = z
  .object({
    reason: z.enum(DEAD_LETTER_REASONS).describe('A reason the message was dead-lettered for.'),
    input: z.number().int().nonnegative().optional().describe('Index of the input (from 0) that is dead-lettered; left out, any input.'),
  })
  .strict();

export const pipelineTestSchema = z
  .object({
    name: z.string().min(1).describe('What the test checks; printed in its summary line.'),
    inputs: z.array(testInputSchema).min(1).describe('Messages, in the order they are read (per partition).'),
    expect: z
      .object({
        samples: z
          .record(z.string(), z.array(expectedSampleSchema))
          .default({})
          .describe('Per tenant, samples that must be emitted once the windows close. Other samples may be emitted too.'),
        no_samples_for: z.array(z.string()).default([]).describe('Tenants that must receive no sample at all.'),
        dead_letters: z
          .array(expectedDeadLetterSchema)
          .default([])
          .describe('Every message expected in the dead-letter topic, one entry per message; any other dead letter fails the test.'),
      })
      .strict()
      .describe('What the pipeline must produce.'),
  })
  .strict();

export const pipelineTestsSchema = z
  .array(pipelineTestSchema)
  .describe('Unit tests run by `sluice test`: input messages and the samples and dead letters they must produce, offline.');

export type PipelineTest = z.output<typeof pipelineTestSchema>;
export type TestInput = z.output<typeof testInputSchema>;
export type ExpectedSample = z.output<typeof expectedSampleSchema>;
export type ExpectedDeadLetter = z.output<typeof expectedDeadLetterSchema>;
