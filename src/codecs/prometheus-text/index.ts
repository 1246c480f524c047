import { accept, malformed, type DecodeContext, type DecodeOutcome, type Decoder, type DecoderOptions } from '../decoder.ts';
import { readTextHeader } from '../headers.ts';
import { textOf, utf8Check } from '../utf8.ts';
import type { PrometheusTextDecodeConfig } from './config.ts';
import { compileGroupingKey, type GroupingKeyReader } from './grouping-key.ts';
import { parseExposition } from './parser.ts';
import { ExpositionError } from './sample-record.ts';

import { prometheusTextDecodeConfigSchema } from './config.ts';
import type { CodecType } from '../codec-type.ts';

export { prometheusTextDecodeConfigSchema, type PrometheusTextDecodeConfig } from './config.ts';
export type { MetricType, PrometheusSampleRecord } from './sample-record.ts';

/** The source's own default for `max_message_bytes`, for callers that build a decoder without a source. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * A Pushgateway payload (text exposition 0.0.4) → one record per sample, with the message's
 * grouping key (from the Kafka key or headers) applied to every sample's labels.
 */
export function createPrometheusTextDecoder(config: PrometheusTextDecodeConfig, options: DecoderOptions): Decoder {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return new PrometheusTextDecoder(compileGroupingKey(config.grouping_key, maxBytes), config.on_label_conflict, config.timestamp_header, maxBytes);
}

class PrometheusTextDecoder implements Decoder {
  constructor(
    private readonly groupingKey: GroupingKeyReader,
    private readonly onLabelConflict: 'reject' | 'override',
    private readonly timestampHeader: string | undefined,
    private readonly groupingBudget: number,
  ) {}

  decode(bytes: Buffer, context: DecodeContext): DecodeOutcome {
    const grouping = this.groupingKey(context);
    if ('detail' in grouping) return { ok: false, reason: grouping.reason, detail: `prometheus_text: ${grouping.detail}` };
    let defaultTimestampMs: number | undefined;
    if (this.timestampHeader !== undefined) {
      const header = readTextHeader(context, this.timestampHeader);
      if (!header.ok) return malformed(`prometheus_text: ${header.detail}`);
      if (header.value !== undefined) {
        defaultTimestampMs = INTEGER.test(header.value) ? Number(header.value) : Number.NaN;
        if (!Number.isSafeInteger(defaultTimestampMs)) {
          return malformed(`prometheus_text: header "${this.timestampHeader}" is not an integer number of epoch milliseconds`);
        }
      }
    }
    const utf8 = utf8Check(bytes);
    if (utf8 >= 0) return malformed(`prometheus_text line ${lineOf(bytes, utf8)}: not UTF-8 (invalid byte sequence at byte ${utf8})`);
    try {
      const options = { grouping, onLabelConflict: this.onLabelConflict, defaultTimestampMs, groupingBudget: this.groupingBudget };
      return accept(parseExposition(textOf(bytes, utf8, 0, bytes.length), options));
    } catch (error) {
      if (error instanceof ExpositionError) return { ok: false, reason: error.reason, detail: `prometheus_text line ${error.line}: ${error.message}` };
      return malformed(`prometheus_text: cannot decode (${(error as Error).name})`);
    }
  }
}

function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  return line;
}

const INTEGER = /^-?\d{1,16}$/;

/** `codec: prometheus_text` in the codec registry (../index.ts). */
export const prometheusTextCodec: CodecType<typeof prometheusTextDecodeConfigSchema> = { codec: 'prometheus_text', schema: prometheusTextDecodeConfigSchema, create: createPrometheusTextDecoder };
