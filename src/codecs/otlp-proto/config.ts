import { z } from 'zod';
import { keepContentAttributes } from '../otlp/options.ts';

export const otlpProtoDecodeConfigSchema = z
  .object({
    codec: z
      .literal('otlp_proto')
      .describe('`otlp_proto`: OTLP ExportTraceServiceRequest in protobuf, as the OpenTelemetry Collector\'s Kafka exporter writes it (encoding otlp_proto, topic otlp_spans). One record per span.'),
    keep_content_attributes: keepContentAttributes,
  })
  .strict()
  .describe('OTLP traces, protobuf-encoded: one record per span.');

export type OtlpProtoDecodeConfig = z.output<typeof otlpProtoDecodeConfigSchema>;
