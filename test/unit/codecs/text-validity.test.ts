import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { avroDecodeConfigSchema, createAvroDecoder } from '../../../src/codecs/avro/index.ts';
import { EMPTY_CONTEXT, type Decoder } from '../../../src/codecs/decoder.ts';
import { createJsonDecoder, jsonDecodeConfigSchema } from '../../../src/codecs/json/index.ts';
import { createOtlpJsonDecoder, otlpJsonDecodeConfigSchema } from '../../../src/codecs/otlp-json/index.ts';
import { createOtlpProtoDecoder, otlpProtoDecodeConfigSchema } from '../../../src/codecs/otlp-proto/index.ts';
import { escapedLoneSurrogateOffset, hasLoneSurrogate, isWellFormedUtf8 } from '../../../src/codecs/text-validity.ts';
import { scratchDir } from '../../support/scratch-dir.ts';

const bytes = (...values: number[]): Buffer => Buffer.from(values);

describe('isWellFormedUtf8', () => {
  it.each([
    ['ASCII', Buffer.from('gen_ai.request.model'), true],
    ['2-, 3- and 4-byte sequences', Buffer.from('é€😀'), true],
    ['a long valid string (the native path)', Buffer.from('é'.repeat(100)), true],
    ['a bad continuation byte', bytes(0xc3, 0x28), false],
    ['an overlong encoding of "/"', bytes(0xc0, 0xaf), false],
    ['an encoded surrogate (CESU-8)', bytes(0xed, 0xa0, 0x80), false],
    ['a code point above U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), false],
    ['a sequence cut short', bytes(0xe2, 0x82), false],
    ['a lone continuation byte after 40 ASCII bytes', Buffer.concat([Buffer.alloc(40, 0x61), bytes(0x80)]), false],
  ])('%s', (_name, input, valid) => {
    expect(isWellFormedUtf8(input)).toBe(valid);
  });

  it('checks only the range asked for', () => {
    const buffer = Buffer.concat([bytes(0xff), Buffer.from('ok'), bytes(0xff)]);
    expect(isWellFormedUtf8(buffer, 1, 3)).toBe(true);
    expect(isWellFormedUtf8(buffer, 0, 3)).toBe(false);
    expect(isWellFormedUtf8(buffer, 1, 4)).toBe(false);
  });
});

describe('hasLoneSurrogate and escapedLoneSurrogateOffset', () => {
  it('tells a lone surrogate from a pair', () => {
    expect(hasLoneSurrogate('a\ud800b')).toBe(true);
    expect(hasLoneSurrogate('\udc00')).toBe(true);
    expect(hasLoneSurrogate('😀 \ud83d\ude00')).toBe(false);
    expect(hasLoneSurrogate('plain')).toBe(false);
  });

  it.each([
    ['{"a":"\\ud800"}', 6],
    ['{"a":"\\uDBFFx"}', 6],
    ['{"a":"\\udc00"}', 6],
    ['{"a":"\\ud800\\u0041"}', 6],
    ['{"\\ud800":1}', 2],
    ['{"a":"\\ud83d\\ude00"}', -1],
    ['{"a":"\\\\ud800"}', -1], // an escaped backslash, then plain text
    ['{"a":"\\n\\u00e9\\"\\\\"}', -1],
    ['{"a":"\\\\\\ud800"}', 8],
  ])('%s → %i', (text, offset) => {
    expect(escapedLoneSurrogateOffset(Buffer.from(text))).toBe(offset);
  });
});

describe('every codec refuses text that is not well-formed Unicode, the same way', () => {
  const dir = scratchDir('text');
  writeFileSync(join(dir, 's.avsc'), JSON.stringify({ type: 'record', name: 'S', fields: [{ name: 's', type: 'string' }, { name: 'm', type: { type: 'map', values: 'int' } }] }));
  const json = createJsonDecoder(jsonDecodeConfigSchema.parse({ codec: 'json' }), { baseDir: dir });
  const ndjson = createJsonDecoder(jsonDecodeConfigSchema.parse({ codec: 'json', framing: 'ndjson' }), { baseDir: dir });
  const otlpJson = createOtlpJsonDecoder(otlpJsonDecodeConfigSchema.parse({ codec: 'otlp_json' }), { baseDir: dir });
  const otlpProto = createOtlpProtoDecoder(otlpProtoDecodeConfigSchema.parse({ codec: 'otlp_proto' }), { baseDir: dir });
  const avro = createAvroDecoder(avroDecodeConfigSchema.parse({ codec: 'avro', schema: 's.avsc' }), { baseDir: dir });
  const decode = (decoder: Decoder, input: string | Buffer) => decoder.decode(Buffer.isBuffer(input) ? input : Buffer.from(input), EMPTY_CONTEXT);

  it('json: a lone surrogate escape, in a value or a key, is malformed (it once reached Prometheus as U+FFFD)', () => {
    expect(decode(json, '{"label":"\\ud800"}')).toEqual({ ok: false, reason: 'malformed', detail: 'not Unicode: the \\u escape at byte 10 is a lone surrogate' });
    expect(decode(json, '{"\\udfff":1}')).toEqual({ ok: false, reason: 'malformed', detail: 'not Unicode: the \\u escape at byte 2 is a lone surrogate' });
    expect(decode(json, '{"emoji":"\\ud83d\\ude00"}')).toEqual({ ok: true, records: [{ emoji: '😀' }] });
    expect(decode(ndjson, '{"a":1}\n{"a":"\\ud800"}\n')).toEqual({ ok: false, reason: 'malformed', detail: 'ndjson line 2: not Unicode: the \\u escape at byte 14 is a lone surrogate' });
  });

  it('otlp_json: the same rule', () => {
    const request = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"\\ud800"}]}]}]}';
    expect(decode(otlpJson, request)).toEqual({ ok: false, reason: 'malformed', detail: `otlp_json: not Unicode: the \\u escape at byte ${request.indexOf('\\')} is a lone surrogate` });
  });

  it('avro: invalid UTF-8 in a string or a map key is malformed, not replaced with U+FFFD', () => {
    expect(decode(avro, bytes(4, 0xc3, 0x28, 0))).toEqual({ ok: false, reason: 'malformed', detail: 'avro: invalid UTF-8 in the string at byte 1 (s.avsc, 4-byte body)' });
    expect(decode(avro, bytes(2, 0x41, 2, 2, 0xff, 0, 0))).toEqual({ ok: false, reason: 'malformed', detail: 'avro: invalid UTF-8 in the string at byte 4 (s.avsc, 7-byte body)' });
    expect(decode(avro, Buffer.concat([bytes(12), Buffer.from('é😀'), bytes(0)]))).toEqual({ ok: true, records: [{ s: 'é😀', m: {} }] });
  });

  it('otlp_proto: invalid UTF-8 in any string field is malformed, naming where', () => {
    // resource_spans { scope_spans { spans { name: C3 28 } } }
    const span = bytes(0x2a, 2, 0xc3, 0x28);
    const scopeSpans = Buffer.concat([bytes(0x12, span.length), span]);
    const resourceSpans = Buffer.concat([bytes(0x12, scopeSpans.length), scopeSpans]);
    const request = Buffer.concat([bytes(0x0a, resourceSpans.length), resourceSpans]);
    expect(decode(otlpProto, request)).toEqual({ ok: false, reason: 'malformed', detail: 'otlp_proto: invalid UTF-8 at byte 8 in resource_spans[0].scope_spans[0].spans[0] (field 5)' });
  });
});
