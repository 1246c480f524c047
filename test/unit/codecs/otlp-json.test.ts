import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT, type DecodeOutcome } from '../../../src/codecs/decoder.ts';
import { createOtlpJsonDecoder, otlpJsonDecodeConfigSchema } from '../../../src/codecs/otlp-json/index.ts';
import { createOtlpProtoDecoder } from '../../../src/codecs/otlp-proto/index.ts';
import { buildGenAiSpans } from './support/genai-spans.ts';
import { expectGolden, fixture, readFixture } from './support/golden.ts';
import { bySpanId, expectedSpanRecords } from './support/otlp-expectations.ts';

const decoder = createOtlpJsonDecoder(otlpJsonDecodeConfigSchema.parse({ codec: 'otlp_json' }), { baseDir: '.' });
const decode = (input: Uint8Array | string | object): DecodeOutcome =>
  decoder.decode(Buffer.from(typeof input === 'string' || input instanceof Uint8Array ? input : JSON.stringify(input)), EMPTY_CONTEXT);
const spansOf = (outcome: DecodeOutcome) => {
  if (!outcome.ok) throw new Error(`rejected: ${outcome.detail}`);
  return [...outcome.records];
};
const rejected = (detail: string) => ({ ok: false, reason: 'malformed', detail: `otlp_json: ${detail}` });
/** A request with one span, given as OTLP/JSON. */
const withSpan = (span: Record<string, unknown>) => ({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });

describe('otlp_json codec: real OTLP/JSON', () => {
  it('decodes what JsonTraceSerializer writes into the records the SDK spans call for', async () => {
    const spans = await buildGenAiSpans({ fixed: false });
    const records = spansOf(decode(JsonTraceSerializer.serializeRequest(spans)!));
    expect(records.sort(bySpanId)).toStrictEqual(expectedSpanRecords(spans, { keepContent: false }).sort(bySpanId));
  });

  it('gives the same golden records as otlp_proto, from the SDK encoding and from the Collector encoding (int64 as strings)', () => {
    expectGolden(spansOf(decode(readFixture('otlp/genai-spans.sdk.json'))), fixture('otlp/genai-spans.expected.json'));
    expectGolden(spansOf(decode(readFixture('otlp/genai-spans.collector.json'))), fixture('otlp/genai-spans.expected.json'));
    const fromProto = createOtlpProtoDecoder({ codec: 'otlp_proto', keep_content_attributes: false }, { baseDir: '.' }).decode(readFixture('otlp/genai-spans.pb'), EMPTY_CONTEXT);
    expect(spansOf(decode(readFixture('otlp/genai-spans.collector.json')))).toStrictEqual(spansOf(fromProto));
  });

  it('accepts proto field names and enum names, as the Collector does, and ignores unknown keys', () => {
    const [record] = spansOf(
      decode({
        resource_spans: [
          {
            resource: { attributes: [{ key: 'tenant.id', value: { string_value: 'acme' } }] },
            scope_spans: [
              {
                scope: { name: 'x', version: '1' },
                spans: [
                  {
                    trace_id: '0AF7651916CD43DD8448EB211C80319C',
                    span_id: 'B7AD6B7169203331',
                    name: 'chat',
                    kind: 'SPAN_KIND_CLIENT',
                    start_time_unix_nano: '1790000000123456789',
                    end_time_unix_nano: 1_790_000_001_000_000_000,
                    status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
                    someFutureField: { nested: true },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(record).toMatchObject({
      resource: { 'tenant.id': 'acme' },
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
      kind: 'CLIENT',
      start_time_ms: 1_790_000_000_123,
      end_time_ms: 1_790_000_001_000,
      status_code: 'ERROR',
      status_message: '', // exception text is content: dropped by default
    });
  });

  it('skips a UTF-8 byte order mark, as the json codec does (RFC 8259 §8.1), offsets still counted from the first byte', () => {
    const request = withSpan({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'chat' });
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(spansOf(decode(Buffer.concat([bom, Buffer.from(JSON.stringify(request))])))).toStrictEqual(spansOf(decode(request)));
    expect(decode(Buffer.concat([bom, Buffer.from('{"resourceSpans":[')]))).toEqual(rejected('not JSON: unexpected end of input at byte 21'));
    expect(decode(Buffer.concat([bom, Buffer.from('{"a":"\\ud800"}')]))).toEqual(rejected('not Unicode: the \\u escape at byte 9 is a lone surrogate'));
  });

  it('decodes every AnyValue kind; int64 strings stay exact', () => {
    const [record] = spansOf(
      decode(
        withSpan({
          attributes: [
            { key: 'big', value: { intValue: '9223372036854775807' } },
            { key: 'small', value: { intValue: '-42' } },
            { key: 'n', value: { intValue: 7 } },
            { key: 'nan', value: { doubleValue: 'NaN' } },
            { key: 'inf', value: { doubleValue: '-Infinity' } },
            { key: 'raw', value: { bytesValue: '3q2-7w' } },
            { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, {}] } } },
            { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: false } }] } } },
            { key: 'gen_ai.output.messages', value: { stringValue: 'secret' } },
          ],
        }),
      ),
    );
    expect((record as { attributes: unknown }).attributes).toStrictEqual({
      big: '9223372036854775807',
      small: -42,
      n: 7,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      raw: '3q2+7w==',
      list: ['a', null],
      map: { k: false },
    });
  });
});

describe('otlp_json codec: malformed input, with the JSON path', () => {
  it.each([
    ['{"resourceSpans":[', 'not JSON: unexpected end of input at byte 18'],
    ['[]', '<message>: expected an object, got an array'],
    [{ resourceSpans: {} }, 'resourceSpans: expected an array, got an object'],
    [withSpan({ traceId: 'abc' }), 'resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits, got 3 characters'],
    [withSpan({ spanId: 'zzzzzzzzzzzzzzzz' }), 'resourceSpans[0].scopeSpans[0].spans[0].spanId: expected 16 hex digits, got 16 characters that are not all hex'],
    [withSpan({ name: 5 }), 'resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, got a number'],
    [withSpan({ startTimeUnixNano: '-1' }), 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected a decimal string of nanoseconds'],
    [withSpan({ endTimeUnixNano: 1.5 }), 'resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: expected nanoseconds as a decimal string or a non-negative integer, got a number'],
    [withSpan({ kind: 'CLIENT' }), 'resourceSpans[0].scopeSpans[0].spans[0].kind: expected an enum number or SPAN_KIND_* name, got an unknown name'],
    [withSpan({ attributes: [{ key: 'a', value: { intValue: '12x' } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: expected an integer or a decimal string, got a string'],
    [withSpan({ attributes: [{ key: 'a', value: { stringValue: 'x', intValue: 1 } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value: has both stringValue and intValue; an AnyValue holds one'],
    [withSpan({ events: [{ timeUnixNano: '1', attributes: [{ key: 5 }] }] }), 'resourceSpans[0].scopeSpans[0].spans[0].events[0].attributes[0].key: expected a string, got a number'],
  ])('rejects %j: %s', (input, detail) => {
    expect(decode(input)).toEqual(rejected(detail));
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(decode(Buffer.from([0x7b, 0xff, 0x7d]))).toEqual(rejected('not UTF-8: invalid byte sequence at byte 1'));
  });

  it('never puts attribute values in the detail', () => {
    const outcome = decode(withSpan({ attributes: [{ key: 'note', value: { intValue: 'my secret prompt' } }] }));
    expect(outcome.ok).toBe(false);
    expect(JSON.stringify(outcome)).not.toContain('secret');
  });
});
