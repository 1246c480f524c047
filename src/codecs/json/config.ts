import { z } from 'zod';

export const jsonDecodeConfigSchema = z
  .object({
    codec: z.literal('json').describe('`json`: UTF-8 JSON objects.'),
    framing: z
      .enum(['object', 'ndjson'])
      .default('object')
      .describe(
        '`object`: each message is one JSON object. `ndjson`: each message holds newline-delimited JSON objects ' +
          '(blank lines skipped); one bad line rejects the whole message, so its bytes reach the dead-letter topic intact.',
      ),
    schema: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Avro schema (.avsc) every decoded object must satisfy, relative to the pipeline file. Fields the schema ' +
          'does not name are allowed; a field may be missing only when the schema gives it a default.',
      ),
  })
  .strict()
  .describe('JSON messages: one object each, or newline-delimited objects.');

export type JsonDecodeConfig = z.output<typeof jsonDecodeConfigSchema>;
