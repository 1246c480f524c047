import { z } from 'zod';
import { keepContentAttributes } from '../otlp/options.ts';

export const otlpJsonDecodeConfigSchema = z
  .object({
    codec: z
      .literal('otlp_json')
      .describe('`otlp_json`: OTLP ExportTraceServiceRequest in the OTLP/JSON encoding, as the OpenTelemetry Collector\'s Kafka exporter writes it with encoding otlp_json. One record per span.'),
    keep_content_attributes: keepContentAttributes,
  })
  .strict()
  .describe('OTLP traces, JSON-encoded: one record per span.');

export type OtlpJsonDecodeConfig = z.output<typeof otlpJsonDecodeConfigSchema>;
