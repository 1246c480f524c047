import { z } from 'zod';
import { avroDecodeConfigSchema, createAvroDecoder } from './avro/index.ts';
import type { Decoder, DecoderOptions } from './decoder.ts';
import { createJsonDecoder, jsonDecodeConfigSchema } from './json/index.ts';
import { createOtlpJsonDecoder, otlpJsonDecodeConfigSchema } from './otlp-json/index.ts';
import { createOtlpProtoDecoder, otlpProtoDecodeConfigSchema } from './otlp-proto/index.ts';
import { createPrometheusTextDecoder, prometheusTextDecodeConfigSchema } from './prometheus-text/index.ts';

export type { DecodeContext, DecodedRecord, DecodeOutcome, Decoder, DecoderOptions } from './decoder.ts';
export { CodecConfigError, EMPTY_CONTEXT } from './decoder.ts';
export type { OtlpSpanRecord, SpanEventRecord, AttributeValue } from './otlp/span-record.ts';
export type { PrometheusSampleRecord, MetricType } from './prometheus-text/parser.ts';

/** The pipeline's `decode:` section: one codec, chosen by `codec`. */
export const decodeConfigSchema = z
  .discriminatedUnion('codec', [
    jsonDecodeConfigSchema,
    avroDecodeConfigSchema,
    otlpProtoDecodeConfigSchema,
    otlpJsonDecodeConfigSchema,
    prometheusTextDecodeConfigSchema,
  ])
  .describe('How each Kafka message is decoded into records: the codec and its options.');

export type DecodeConfig = z.output<typeof decodeConfigSchema>;

/**
 * Builds the configured decoder: schema files are read, parsed and compiled here, once.
 * Throws `CodecConfigError` (with a path inside `decode:`) when the config cannot be built.
 */
export function createDecoder(config: DecodeConfig, options: DecoderOptions): Decoder {
  switch (config.codec) {
    case 'json':
      return createJsonDecoder(config, options);
    case 'avro':
      return createAvroDecoder(config, options);
    case 'otlp_proto':
      return createOtlpProtoDecoder(config, options);
    case 'otlp_json':
      return createOtlpJsonDecoder(config, options);
    case 'prometheus_text':
      return createPrometheusTextDecoder(config, options);
  }
}
