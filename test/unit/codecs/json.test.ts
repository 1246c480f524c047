import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CodecConfigError, EMPTY_CONTEXT, type DecodeOutcome } from '../../../src/codecs/decoder.ts';
import { createJsonDecoder, jsonDecodeConfigSchema } from '../../../src/codecs/json/index.ts';
import { describeJsonSyntaxError } from '../../../src/codecs/json/syntax-error.ts';
import { expectGolden, fixture, readFixture } from './support/golden.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const object = createJsonDecoder(jsonDecodeConfigSchema.parse({ codec: 'json' }), { baseDir: repoRoot });
const ndjson = createJsonDecoder(jsonDecodeConfigSchema.parse({ codec: 'json', framing: 'ndjson' }), { baseDir: repoRoot });
const ndjsonWithContract = createJsonDecoder(
  jsonDecodeConfigSchema.parse({ codec: 'json', framing: 'ndjson', schema: 'schemas/bailian-gateway-log.avsc' }),
  { baseDir: repoRoot },
);

const decode = (decoder: typeof object, text: string | Buffer): DecodeOutcome => decoder.decode(Buffer.isBuffer(text) ? text : Buffer.from(text), EMPTY_CONTEXT);

describe('json codec, framing: object', () => {
  it('decodes one object per message into one record', () => {
    expect(decode(object, '{"a":1,"b":"x","c":{"d":[true,null]}}')).toEqual({ ok: true, records: [{ a: 1, b: 'x', c: { d: [true, null] } }] });
  });

  it('skips a UTF-8 byte order mark', () => {
    expect(decode(object, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))).toEqual({ ok: true, records: [{ a: 1 }] });
  });

  it.each([
    ['{"a":', 'not JSON: unexpected end of input at byte 5'],
    ['{"a" 1}', "not JSON: expected ':' at byte 5"],
    ['{"a":1,}', 'not JSON: expected a property name at byte 7'],
    ['{"a":tru}', 'not JSON: invalid literal at byte 8'],
    ['{"a":01}', 'not JSON: unexpected character at byte 6'],
    ['{"a":"x\\q"}', 'not JSON: invalid escape sequence at byte 7'],
    ['{"a":1} {"b":2}', 'not JSON: unexpected data after the JSON value at byte 8'],
    ['', 'not JSON: unexpected end of input at byte 0'],
    ['[1,2]', 'expected a JSON object, got an array'],
    ['null', 'expected a JSON object, got null'],
    ['"text"', 'expected a JSON object, got a string'],
    ['42', 'expected a JSON object, got a number'],
  ])('rejects %j as malformed: %s', (input, detail) => {
    expect(decode(object, input)).toEqual({ ok: false, reason: 'malformed', detail });
  });

  it('rejects bytes that are not UTF-8, naming the offset', () => {
    expect(decode(object, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'not UTF-8: invalid byte sequence at byte 6',
    });
  });

  it('refuses nesting deeper than 1000 levels before parsing (V8 took 1 s for 512k levels), brackets in strings not counted', () => {
    const deep = (levels: number) => `{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
    expect(decode(object, deep(1000))).toMatchObject({ ok: true });
    expect(decode(object, deep(1001))).toEqual({ ok: false, reason: 'malformed', detail: 'nested deeper than 1000 levels at byte 1004' });
    expect(decode(object, `{"s":"${'[\\"'.repeat(2000)}"}`)).toMatchObject({ ok: true });
    expect(decode(ndjson, `{"a":1}\n${deep(1001)}\n`)).toEqual({ ok: false, reason: 'malformed', detail: 'ndjson line 2: nested deeper than 1000 levels at byte 1012' });
  });

  it('never puts the message content in the detail', () => {
    const outcome = decode(object, '{"prompt": "my password is hunter2" oops}');
    expect(outcome).toEqual({ ok: false, reason: 'malformed', detail: 'not JSON: unexpected character at byte 36' });
  });
});

describe('json codec, framing: ndjson', () => {
  it('decodes every non-blank line (CRLF and blank lines included) into a record: golden', () => {
    const outcome = decode(ndjson, readFixture('json/gateway-logs.ndjson'));
    expect(outcome.ok).toBe(true);
    if (outcome.ok) {
      expect(outcome.records).toHaveLength(3);
      expectGolden(outcome.records, fixture('json/gateway-logs.expected.json'));
    }
  });

  it('checks every line against the Avro contract; the golden file satisfies it', () => {
    const outcome = decode(ndjsonWithContract, readFixture('json/gateway-logs.ndjson'));
    expect(outcome.ok && outcome.records.length).toBe(3);
  });

  it('rejects the whole message for one invalid line, naming the line and byte', () => {
    expect(decode(ndjson, '{"a":1}\n{"a":2,}\n{"a":3}\n')).toEqual({ ok: false, reason: 'malformed', detail: 'ndjson line 2: not JSON: expected a property name at byte 15' });
    expect(decode(ndjson, '{"a":1}\n\n[3]\n')).toEqual({ ok: false, reason: 'malformed', detail: 'ndjson line 3: expected a JSON object, got an array' });
  });

  it('rejects a contract violation on any line as `schema`, naming the line and field', () => {
    const lines = readFixture('json/gateway-logs.ndjson').toString('utf8').split('\n');
    lines[2] = lines[2]!.replace('"http_status":429', '"http_status":"429"');
    expect(decode(ndjsonWithContract, lines.join('\n'))).toEqual({ ok: false, reason: 'schema', detail: 'ndjson line 3: http_status: expected int, got string' });
  });

  it('rejects a message with no objects and bad UTF-8 with its line', () => {
    expect(decode(ndjson, '\n  \r\n')).toEqual({ ok: false, reason: 'malformed', detail: 'ndjson: the message has no JSON objects, only blank lines' });
    expect(decode(ndjson, Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from([0xff]), Buffer.from('"}\n')]))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'not UTF-8: invalid byte sequence at byte 14 (line 2)',
    });
  });
});

describe('json codec config', () => {
  it('defaults to one object per message and refuses unknown options', () => {
    expect(jsonDecodeConfigSchema.parse({ codec: 'json' })).toEqual({ codec: 'json', framing: 'object' });
    expect(jsonDecodeConfigSchema.safeParse({ codec: 'json', max_message_bytes: 10 }).success).toBe(false);
  });

  it('fails at construction, with the config path, when the schema file is missing', () => {
    const build = () => createJsonDecoder({ codec: 'json', framing: 'object', schema: 'schemas/missing.avsc' }, { baseDir: repoRoot });
    expect(build).toThrow(CodecConfigError);
    expect(build).toThrow(/cannot read Avro schema .*schemas\/missing\.avsc: ENOENT/);
    try {
      build();
    } catch (error) {
      expect((error as CodecConfigError).path).toEqual(['schema']);
    }
  });
});

describe('describeJsonSyntaxError', () => {
  it('finds an error in every mutation that JSON.parse refuses', () => {
    const valid = Buffer.from('{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"],"b":{"c":{}},"d":[]}');
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let refused = 0;
    for (let n = 0; n < 1500; n++) {
      const bytes = Buffer.from(valid);
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) bytes[Math.floor(random() * bytes.length)] = ' "{}[],:.-+eE0123456789tfnu\\x'.charCodeAt(Math.floor(random() * 30));
      const cut = random() < 0.2 ? Math.floor(random() * bytes.length) : bytes.length;
      const text = bytes.subarray(0, cut);
      try {
        JSON.parse(text.toString('utf8'));
      } catch {
        refused++;
        expect(describeJsonSyntaxError(text, 0, text.length)).toMatch(/ at byte \d+$/);
      }
    }
    expect(refused).toBeGreaterThan(500);
  });
});
