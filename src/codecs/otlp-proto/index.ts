import { accept, malformed, type DecodeContext, type DecodeOutcome, type Decoder, type DecoderOptions } from '../decoder.ts';
import type { OtlpProtoDecodeConfig } from './config.ts';
import { WireError } from './proto-cursor.ts';
import { OtlpProtoWalker } from './walker.ts';

import { otlpProtoDecodeConfigSchema } from './config.ts';
import type { CodecType } from '../codec-type.ts';

export { otlpProtoDecodeConfigSchema, type OtlpProtoDecodeConfig } from './config.ts';
export type { OtlpSpanRecord, SpanEventRecord, AttributeValue } from '../otlp/span-record.ts';

/** OTLP/protobuf trace requests → one record per span (shape: `OtlpSpanRecord`). */
export function createOtlpProtoDecoder(config: OtlpProtoDecodeConfig, _options: DecoderOptions): Decoder {
  return new OtlpProtoDecoder(config.keep_content_attributes);
}

class OtlpProtoDecoder implements Decoder {
  constructor(private readonly keepContent: boolean) {}

  decode(bytes: Buffer, _context: DecodeContext): DecodeOutcome {
    const walker = new OtlpProtoWalker(bytes, this.keepContent);
    try {
      return accept(walker.request());
    } catch (error) {
      if (error instanceof WireError) return malformed(`otlp_proto: ${error.message}`);
      // protobufjs's own errors carry offsets and counts only ("index out of range: 37 + 1 > 38").
      const what = error instanceof RangeError ? `truncated (${error.message})` : (error as Error).message;
      return malformed(`otlp_proto: ${what} ${walker.location()}`);
    }
  }
}

/** `codec: otlp_proto` in the codec registry (../index.ts). */
export const otlpProtoCodec: CodecType<typeof otlpProtoDecodeConfigSchema> = { codec: 'otlp_proto', schema: otlpProtoDecodeConfigSchema, create: createOtlpProtoDecoder };
