import { accept, malformed, type DecodeContext, type DecodeOutcome, type Decoder, type DecoderOptions } from '../decoder.ts';
import { readTextHeader } from '../headers.ts';
import { invalidUtf8Offset } from '../utf8.ts';
import type { PrometheusTextDecodeConfig } from './config.ts';
import { compileGroupingKey, type GroupingKeyReader } from './grouping-key.ts';
import { ExpositionError, parseExposition } from './parser.ts';

export { prometheusTextDecodeConfigSchema, type PrometheusTextDecodeConfig } from './config.ts';
export type { MetricType, PrometheusSampleRecord } from './parser.ts';

/**
 * A Pushgateway payload (text exposition 0.0.4) → one record per sample, with the message's
 * grouping key (from the Kafka key or headers) applied to every sample's labels.
 */
export function createPrometheusTextDecoder(config: PrometheusTextDecodeConfig, _options: DecoderOptions): Decoder {
  return new PrometheusTextDecoder(compileGroupingKey(config.grouping_key), config.on_label_conflict, config.timestamp_header);
}

class PrometheusTextDecoder implements Decoder {
  constructor(
    private readonly groupingKey: GroupingKeyReader,
    private readonly onLabelConflict: 'reject' | 'override',
    private readonly timestampHeader: string | undefined,
  ) {}

  decode(bytes: Buffer, context: DecodeContext): DecodeOutcome {
    const grouping = this.groupingKey(context);
    if (typeof grouping === 'string') return malformed(`prometheus_text: ${grouping}`);
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
    const badUtf8 = invalidUtf8Offset(bytes);
    if (badUtf8 >= 0) return malformed(`prometheus_text line ${lineOf(bytes, badUtf8)}: not UTF-8 (invalid byte sequence at byte ${badUtf8})`);
    try {
      return accept(parseExposition(bytes.toString('utf8'), { grouping, onLabelConflict: this.onLabelConflict, defaultTimestampMs }));
    } catch (error) {
      if (error instanceof ExpositionError) return malformed(`prometheus_text line ${error.line}: ${error.message}`);
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
