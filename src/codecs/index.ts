import { z } from 'zod';
import { avroCodec } from './avro/index.ts';
import type { Decoder, DecoderOptions } from './decoder.ts';
import { jsonCodec } from './json/index.ts';
import { otlpJsonCodec } from './otlp-json/index.ts';
import { otlpProtoCodec } from './otlp-proto/index.ts';
import { prometheusTextCodec } from './prometheus-text/index.ts';

export type { DecodeContext, DecodedRecord, DecodeOutcome, Decoder, DecoderOptions } from './decoder.ts';
export { CodecConfigError, EMPTY_CONTEXT } from './decoder.ts';
export type { OtlpSpanRecord, SpanEventRecord, AttributeValue } from './otlp/span-record.ts';
export type { PrometheusSampleRecord, MetricType } from './prometheus-text/sample-record.ts';

/**
 * The codecs, one line each. A new codec is a folder whose index.ts exports its `CodecType`
 * (codec-type.ts) and a line here; nothing else names a codec.
 */
const CODECS = [
  jsonCodec,
  avroCodec,
  otlpProtoCodec,
  otlpJsonCodec,
  prometheusTextCodec,
] as const;

type Registered = (typeof CODECS)[number];
const [firstSchema, ...otherSchemas] = CODECS.map((codec): Registered['schema'] => codec.schema);

/** The pipeline's `decode:` section: one codec, chosen by `codec`. */
export const decodeConfigSchema = z
  .discriminatedUnion('codec', [firstSchema!, ...otherSchemas])
  .describe('How each Kafka message is decoded into records: the codec and its options.');

export type DecodeConfig = z.output<typeof decodeConfigSchema>;

/**
 * Builds the configured decoder: schema files are read, parsed and compiled here, once.
 * Throws `CodecConfigError` (with a path inside `decode:`) when the config cannot be built.
 */
export function createDecoder(config: DecodeConfig, options: DecoderOptions): Decoder {
  const codec = CODECS.find((c) => c.codec === config.codec)!;
  // The schema parsed `config` as the member whose `codec` it names: that member's factory takes it.
  return (codec.create as (config: DecodeConfig, options: DecoderOptions) => Decoder)(config, options);
}
