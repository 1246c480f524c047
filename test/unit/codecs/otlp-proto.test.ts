import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT, type DecodeOutcome } from '../../../src/codecs/decoder.ts';
import { createOtlpProtoDecoder, otlpProtoDecodeConfigSchema } from '../../../src/codecs/otlp-proto/index.ts';
import { buildGenAiSpans } from './support/genai-spans.ts';
import { expectGolden, fixture, readFixture } from './support/golden.ts';
import { embed, LEN, message, text, type Writer } from './support/protobuf-writer.ts';
import { bySpanId, expectedSpanRecords } from './support/otlp-expectations.ts';

const decoder = createOtlpProtoDecoder(otlpProtoDecodeConfigSchema.parse({ codec: 'otlp_proto' }), { baseDir: '.' });
const keeping = createOtlpProtoDecoder(otlpProtoDecodeConfigSchema.parse({ codec: 'otlp_proto', keep_content_attributes: true }), { baseDir: '.' });
const decode = (bytes: Uint8Array, using = decoder): DecodeOutcome => using.decode(Buffer.from(bytes), EMPTY_CONTEXT);
const spansOf = (outcome: DecodeOutcome) => {
  if (!outcome.ok) throw new Error(`rejected: ${outcome.detail}`);
  return [...outcome.records];
};
const rejected = (detail: string) => ({ ok: false, reason: 'malformed', detail: `otlp_proto: ${detail}` });

/** A request with one resource, one scope and the given spans. */
const request = (...spans: Uint8Array[]): Uint8Array =>
  message((w) => embed(w, 1, message((rs) => embed(rs, 2, message((ss) => spans.forEach((span) => embed(ss, 2, span)))))));
const keyValue = (key: string, value: (w: Writer) => void): Uint8Array => message((kv) => embed(text(kv, 1, key), 2, message(value)));

describe('otlp_proto codec: real OTLP from the OpenTelemetry JS SDK', () => {
  it('decodes what ProtobufTraceSerializer writes: one record per span, content attributes dropped', async () => {
    const spans = await buildGenAiSpans({ fixed: false });
    const records = spansOf(decode(ProtobufTraceSerializer.serializeRequest(spans)!));
    expect(records.sort(bySpanId)).toStrictEqual(expectedSpanRecords(spans, { keepContent: false }).sort(bySpanId));
  });

  it('keeps content attributes only when asked to', async () => {
    const spans = await buildGenAiSpans({ fixed: false });
    const records = spansOf(decode(ProtobufTraceSerializer.serializeRequest(spans)!, keeping));
    expect(records.sort(bySpanId)).toStrictEqual(expectedSpanRecords(spans, { keepContent: true }).sort(bySpanId));
    const chat = records.find((r) => r.name === 'chat qwen-plus') as { attributes: Record<string, unknown> };
    expect(Object.keys(chat.attributes)).toContain('gen_ai.input.messages');
  });

  it('matches the committed golden records for the committed bytes', () => {
    const records = spansOf(decode(readFixture('otlp/genai-spans.pb')));
    expect(records).toHaveLength(4);
    expectGolden(records, fixture('otlp/genai-spans.expected.json'));
  });
});

describe('otlp_proto codec: values and forward compatibility', () => {
  it('decodes every AnyValue kind; int64 stays exact (a string beyond ±2^53)', () => {
    const span = message((s) => {
      embed(s, 9, keyValue('safe', (v) => v.uint32((3 << 3) | 0).int64(-9_007_199_254_740_991)));
      embed(s, 9, keyValue('big', (v) => v.uint32((3 << 3) | 0).int64('9223372036854775807')));
      embed(s, 9, keyValue('negative', (v) => v.uint32((3 << 3) | 0).int64(-5)));
      embed(s, 9, keyValue('ratio', (v) => v.uint32((4 << 3) | 1).double(0.25)));
      embed(s, 9, keyValue('flag', (v) => v.uint32((2 << 3) | 0).bool(true)));
      embed(s, 9, keyValue('raw', (v) => v.uint32((7 << 3) | LEN).bytes(Buffer.from([0xde, 0xad, 0xbe, 0xef]))));
      embed(s, 9, keyValue('list', (v) => embed(v, 5, message((a) => embed(embed(a, 1, message((x) => text(x, 1, 'a'))), 1, message(() => undefined))))));
      embed(s, 9, keyValue('map', (v) => embed(v, 6, message((m) => embed(m, 1, keyValue('__proto__', (x) => text(x, 1, 'p')))))));
      embed(s, 9, keyValue('empty', () => undefined));
    });
    const [record] = spansOf(decode(request(span))) as { attributes: Record<string, unknown> }[];
    const expectedMap: Record<string, unknown> = {};
    Object.defineProperty(expectedMap, '__proto__', { value: 'p', enumerable: true, writable: true, configurable: true });
    expect(record!.attributes).toStrictEqual({
      safe: -9_007_199_254_740_991,
      big: '9223372036854775807',
      negative: -5,
      ratio: 0.25,
      flag: true,
      raw: '3q2+7w==',
      list: ['a', null],
      map: expectedMap,
      empty: null,
    });
    expect(Object.getPrototypeOf(record!.attributes.map)).toBe(Object.prototype);
  });

  it('reads an empty request as zero spans, as protobuf does (it was refused as malformed)', () => {
    expect(decode(Buffer.alloc(0))).toEqual({ ok: true, records: [] });
  });

  it('merges an attribute value given more than once, as protobuf merges embedded messages', () => {
    const twice = (build: (w: Writer) => void) => message((kv) => build(text(kv, 1, 'k')));
    const list = (item: string) => (v: Writer) => embed(v, 5, message((a) => embed(a, 1, message((x) => text(x, 1, item)))));
    const span = message((s) => {
      embed(s, 9, twice((kv) => embed(embed(kv, 2, message(list('a'))), 2, message(list('b')))));
    });
    const [record] = spansOf(decode(request(span))) as { attributes: Record<string, unknown> }[];
    expect(record!.attributes).toStrictEqual({ k: ['a', 'b'] });
  });

  it('skips unknown fields, and takes fields in any order (value before key, spans before resource)', () => {
    const span = message((s) => {
      s.uint32((99 << 3) | 0).uint32(1); // a field from the future
      embed(s, 9, message((kv) => embed(kv, 2, message((v) => text(v, 1, 'qwen-plus'))).uint32((1 << 3) | LEN).string('gen_ai.request.model')));
      text(s, 5, 'chat');
    });
    const resource = message((r) => embed(r, 1, keyValue('tenant.id', (v) => text(v, 1, 'acme'))));
    const bytes = message((w) => embed(w, 1, message((rs) => embed(embed(rs, 2, message((ss) => embed(ss, 2, span))), 1, resource))));
    const [record] = spansOf(decode(bytes)) as Record<string, unknown>[];
    expect(record).toMatchObject({ name: 'chat', resource: { 'tenant.id': 'acme' }, attributes: { 'gen_ai.request.model': 'qwen-plus' } });
    expect(Object.isFrozen(record!.resource)).toBe(true);
  });
});

describe('otlp_proto codec: malformed input, with the reason and place', () => {
  const golden = readFixture('otlp/genai-spans.pb');

  it('rejects truncated bytes, naming the field, its length and what is left', () => {
    expect(decode(golden.subarray(0, 37))).toEqual(rejected('truncated at byte 1 in resource_spans[0] (field 1 length 1838 > remaining 34)'));
    expect(decode(golden.subarray(0, 400))).toMatchObject({ ok: false, reason: 'malformed', detail: expect.stringMatching(/^otlp_proto: truncated at byte \d+ in resource_spans\[0\]/) });
  });

  it('rejects every truncation of the golden request that cuts inside a message, and never throws', () => {
    let accepted = 0;
    for (let cut = 1; cut < golden.length; cut++) {
      const outcome = decode(golden.subarray(0, cut));
      if (outcome.ok) accepted++;
      else expect(outcome.detail).toMatch(/^otlp_proto: (truncated|invalid|wrong wire type|not an)/);
    }
    expect(accepted).toBe(1); // only the cut between the two ResourceSpans is itself a valid request
  });

  it('rejects a known field with the wrong wire type', () => {
    const span = message((s) => s.uint32((7 << 3) | 0).uint64(1_790_000_000));
    expect(decode(request(span))).toEqual(rejected('wrong wire type at byte 6 in resource_spans[0].scope_spans[0].spans[0] (field 7 start_time_unix_nano: wire type 0, expected 1)'));
    const attribute = message((s) => embed(s, 9, message((kv) => kv.uint32((1 << 3) | 0).uint32(5))));
    expect(decode(request(attribute))).toEqual(rejected('wrong wire type at byte 8 in resource_spans[0].scope_spans[0].spans[0].attributes[0] (field 1 key: wire type 0, expected 2)'));
  });

  it('rejects ids of the wrong length', () => {
    const span = message((s) => s.uint32((1 << 3) | LEN).bytes(Buffer.alloc(15, 1)));
    expect(decode(request(span))).toEqual(rejected('invalid id at byte 7 in resource_spans[0].scope_spans[0].spans[0] (field 1 trace_id: 15 bytes, expected 16)'));
  });

  it('rejects garbage, text and OTLP/JSON sent to the protobuf codec', () => {
    expect(decode(Buffer.from('hello world'))).toEqual(rejected('not an ExportTraceServiceRequest: field 13 with wire type 0 at byte 0'));
    expect(decode(readFixture('otlp/genai-spans.sdk.json'))).toEqual(
      rejected('not an ExportTraceServiceRequest: field 15 with wire type 3 at byte 0; the message starts with "{": is it OTLP/JSON (codec otlp_json)?'),
    );
    expect(decode(Buffer.from([0x0a, 0x02, 0x0f, 0x00]))).toEqual(rejected('invalid wire type 7 for field 1 at byte 2 in resource_spans[0]'));
  });

  it('never throws on random bytes or on random corruption of the golden request', () => {
    let seed = 3;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 2000; n++) {
      const bytes = n % 2 === 0 ? Buffer.from(golden) : Buffer.alloc(Math.floor(random() * 200));
      const edits = n % 2 === 0 ? 1 + Math.floor(random() * 4) : bytes.length;
      for (let e = 0; e < edits; e++) bytes[n % 2 === 0 ? Math.floor(random() * bytes.length) : e] = Math.floor(random() * 256);
      const outcome = decode(bytes);
      if (!outcome.ok) expect(outcome.detail).toMatch(/^otlp_proto: \S/);
    }
  });
});
