import { accept, malformed, type DecodeContext, type DecodeOutcome, type Decoder, type DecoderOptions } from '../decoder.ts';
import { bomLength } from '../json/bom.ts';
import { tooDeepDetail, tooDeepOffset } from '../json/depth.ts';
import { describeJsonSyntaxError, loneSurrogateDetail } from '../json/syntax-error.ts';
import { escapedLoneSurrogateOffset } from '../text-validity.ts';
import { textOf, utf8Check } from '../utf8.ts';
import type { OtlpJsonDecodeConfig } from './config.ts';
import { JsonShapeError, OtlpJsonWalker } from './walker.ts';

import { otlpJsonDecodeConfigSchema } from './config.ts';
import type { CodecType } from '../codec-type.ts';

export { otlpJsonDecodeConfigSchema, type OtlpJsonDecodeConfig } from './config.ts';
export type { OtlpSpanRecord, SpanEventRecord, AttributeValue } from '../otlp/span-record.ts';

/** OTLP/JSON trace requests → one record per span, the same records `otlp_proto` gives. */
export function createOtlpJsonDecoder(config: OtlpJsonDecodeConfig, _options: DecoderOptions): Decoder {
  return new OtlpJsonDecoder(config.keep_content_attributes);
}

class OtlpJsonDecoder implements Decoder {
  constructor(private readonly keepContent: boolean) {}

  decode(bytes: Buffer, _context: DecodeContext): DecodeOutcome {
    const utf8 = utf8Check(bytes);
    if (utf8 >= 0) return malformed(`otlp_json: not UTF-8: invalid byte sequence at byte ${utf8}`);
    const start = bomLength(bytes);
    const tooDeep = tooDeepOffset(bytes, start, bytes.length);
    if (tooDeep >= 0) return malformed(`otlp_json: ${tooDeepDetail(tooDeep)}`);
    let root: unknown;
    try {
      root = JSON.parse(textOf(bytes, utf8, start, bytes.length));
    } catch {
      return malformed(`otlp_json: not JSON: ${describeJsonSyntaxError(bytes, start, bytes.length)}`);
    }
    const surrogate = escapedLoneSurrogateOffset(bytes, start);
    if (surrogate >= 0) return malformed(`otlp_json: ${loneSurrogateDetail(surrogate)}`);
    try {
      return accept(new OtlpJsonWalker(this.keepContent).request(root));
    } catch (error) {
      if (error instanceof JsonShapeError) return malformed(`otlp_json: ${error.message}`);
      // Not expected; still a verdict on this message rather than an exception through the pipeline.
      return malformed(`otlp_json: cannot decode (${(error as Error).name})`);
    }
  }
}

/** `codec: otlp_json` in the codec registry (../index.ts). */
export const otlpJsonCodec: CodecType<typeof otlpJsonDecodeConfigSchema> = { codec: 'otlp_json', schema: otlpJsonDecodeConfigSchema, create: createOtlpJsonDecoder };
