import { z } from 'zod';

const SCHEMA_ID = /^\d{1,10}$/;

export const avroDecodeConfigSchema = z
  .object({
    codec: z.literal('avro').describe('`avro`: Avro binary-encoded records (one record per message).'),
    framing: z
      .enum(['plain', 'confluent'])
      .default('plain')
      .describe(
        '`plain`: the message is the record\'s binary encoding, written with `schema`. `confluent`: the Confluent ' +
          'wire format, a 0x00 magic byte and a 4-byte big-endian schema id before the body; the id picks the writer ' +
          'schema from `schema_ids`.',
      ),
    schema: z
      .string()
      .min(1)
      .optional()
      .describe('Writer schema (.avsc) for `framing: plain`, relative to the pipeline file.'),
    schema_ids: z
      .record(
        z.string().regex(SCHEMA_ID, 'a schema id is a non-negative integer').refine((id) => Number(id) <= 2_147_483_647, 'a schema id fits in 31 bits'),
        z.string().min(1),
      )
      .optional()
      .describe('For `framing: confluent`: writer schema (.avsc) per schema-registry id, e.g. `{ 1: schemas/v1.avsc, 2: schemas/v2.avsc }`.'),
    reader_schema: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Schema the records are resolved to (Avro schema resolution), so every writer version decodes to one shape: ' +
          'fields the reader lacks are dropped, fields the writer lacks take the reader\'s default. Without it, ' +
          'records keep their writer schema\'s fields.',
      ),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.framing === 'plain') {
      if (config.schema === undefined) ctx.addIssue({ code: 'custom', path: ['schema'], message: '`framing: plain` needs `schema`, the writer schema' });
      if (config.schema_ids !== undefined) ctx.addIssue({ code: 'custom', path: ['schema_ids'], message: '`schema_ids` is for `framing: confluent`' });
    } else {
      if (config.schema_ids === undefined || Object.keys(config.schema_ids).length === 0) {
        ctx.addIssue({ code: 'custom', path: ['schema_ids'], message: '`framing: confluent` needs `schema_ids`, at least one id and its writer schema' });
      }
      if (config.schema !== undefined) ctx.addIssue({ code: 'custom', path: ['schema'], message: '`framing: confluent` takes writer schemas from `schema_ids`, not `schema`' });
    }
  })
  .describe('Avro messages, plain or in the Confluent wire format, with writer → reader schema resolution.');

export type AvroDecodeConfig = z.output<typeof avroDecodeConfigSchema>;
