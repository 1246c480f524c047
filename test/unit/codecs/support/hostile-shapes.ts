import { fileURLToPath } from 'node:url';
import { createDecoder, decodeConfigSchema, type DecodeContext, type Decoder } from '../../../../src/codecs/index.ts';
import { embed, LEN, message, text, type Writer } from './protobuf-writer.ts';

/**
 * Messages shaped to make a decoder work hard per byte: deep nesting, long varints, many
 * attributes, many labels, many keys. `make(bytes)` builds one of about `bytes` bytes. The
 * decode-scaling bench times each at 64 KB and 1 MB (linear: ×16); the fuzz test decodes them
 * small and mutated. `decoder` names an entry of `scalingDecoders()`; without it, the codec's default.
 */
export interface HostileShape {
  readonly codec: string;
  readonly shape: string;
  readonly decoder?: string;
  make(bytes: number): Buffer;
}

export interface NamedDecoder {
  readonly decoder: Decoder;
  readonly context: DecodeContext;
}

const fixtures = fileURLToPath(new URL('../../../fixtures/codecs/', import.meta.url));
const NO_CONTEXT: DecodeContext = { key: null, headers: {} };
const PUSH_KEY: DecodeContext = { key: Buffer.from('job/scaling/instance/node-1'), headers: {} };

/** The decoders the shapes (and the fuzz test's fixtures) are decoded with, by name. */
export function scalingDecoders(): ReadonlyMap<string, NamedDecoder> {
  const build = (config: Record<string, unknown>, context = NO_CONTEXT, readFields?: readonly string[]): NamedDecoder => ({
    decoder: createDecoder(decodeConfigSchema.parse(config), { baseDir: fixtures, readFields }),
    context,
  });
  return new Map([
    ['json', build({ codec: 'json', framing: 'object' })],
    ['json/ndjson', build({ codec: 'json', framing: 'ndjson' })],
    // The flat scanner (json/flat-scanner.ts): a pipeline that reads a few fields.
    ['json/fields-read', build({ codec: 'json', framing: 'object' }, NO_CONTEXT, ['end', 'key_7', 'tenant', 'n', 's'])],
    ['avro', build({ codec: 'avro', framing: 'plain', schema: '../../../schemas/bailian-gateway-log.avsc' })],
    [
      'avro/confluent',
      build({
        codec: 'avro',
        framing: 'confluent',
        schema_ids: { 1: '../../../schemas/bailian-gateway-log.avsc', 2: '../../../schemas/bailian-gateway-log-v2.avsc' },
        reader_schema: '../../../schemas/bailian-gateway-log-v2.avsc',
      }),
    ],
    ['avro/longs', build({ codec: 'avro', framing: 'plain', schema: 'avro/hostile-longs.avsc' })],
    ['avro/map', build({ codec: 'avro', framing: 'plain', schema: 'avro/hostile-map.avsc' })],
    ['avro/tree', build({ codec: 'avro', framing: 'plain', schema: 'avro/hostile-tree.avsc' })],
    ['otlp_proto', build({ codec: 'otlp_proto', keep_content_attributes: false })],
    ['otlp_json', build({ codec: 'otlp_json', keep_content_attributes: false })],
    ['prometheus_text', build({ codec: 'prometheus_text', grouping_key: { from: 'key' }, on_label_conflict: 'reject' }, PUSH_KEY)],
  ]);
}

/** Repeats `unit(i)` until the text reaches `bytes`. */
function repeatText(bytes: number, prefix: string, unit: (i: number) => string, suffix: string): Buffer {
  const parts = [prefix];
  let size = prefix.length + suffix.length;
  for (let i = 0; size < bytes; i++) {
    const part = unit(i);
    parts.push(part);
    size += part.length;
  }
  parts.push(suffix);
  return Buffer.from(parts.join(''));
}

const request = (spans: (w: Writer) => void): Buffer =>
  Buffer.from(message((w) => embed(w, 1, message((rs) => embed(rs, 2, message(spans))))));
const spanWith = (fill: (s: Writer) => void): Uint8Array =>
  message((s) => {
    s.uint32((1 << 3) | LEN).bytes(Buffer.alloc(16, 1));
    s.uint32((2 << 3) | LEN).bytes(Buffer.alloc(8, 2));
    text(s, 5, 'chat qwen-plus');
    fill(s);
  });

/** How many units of `unitBytes` make `bytes`. */
const count = (bytes: number, unitBytes: number): number => Math.max(1, Math.floor(bytes / unitBytes));

/**
 * `depth` levels of the same two-field wrapper around `inner`, written outside-in into one buffer
 * from lengths computed inside-out (wrapping by concatenation would be quadratic).
 */
function nested(tags: readonly number[], depth: number, inner: Uint8Array): Buffer {
  const lengths: number[] = []; // content length at each wrapper, innermost first
  let length = inner.length;
  for (let level = 0; level < depth; level++) {
    for (let t = tags.length - 1; t >= 0; t--) {
      lengths.push(length);
      length += 1 + varintSize(length);
    }
  }
  const out = Buffer.alloc(length);
  let pos = 0;
  for (let i = lengths.length - 1, t = 0; i >= 0; i--, t = (t + 1) % tags.length) {
    out[pos++] = tags[t]!;
    pos = writeVarint(out, pos, lengths[i]!);
  }
  out.set(inner, pos);
  return out;
}
const varintSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);
function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

const MAX_LONG_VARINT = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]; // zig-zag of -2^63: 10 bytes

export const hostileShapes: readonly HostileShape[] = [
  { codec: 'json', shape: 'many keys', make: (b) => repeatText(b, '{', (i) => `"key_${i}":${i},`, '"end":0}') },
  { codec: 'json', shape: 'many keys, a few read', decoder: 'json/fields-read', make: (b) => repeatText(b, '{', (i) => `"key_${i % 10}":"${i}",`, '"end":0}') },
  { codec: 'json', shape: 'deep nesting', make: (b) => Buffer.from(`{"a":${'['.repeat(count(b, 2))}${']'.repeat(count(b, 2))}}`) },
  { codec: 'json', shape: 'escapes and surrogate pairs', make: (b) => repeatText(b, '{"s":"', () => '\\u00e9\\ud83d\\ude00\\n', '"}') },
  { codec: 'json', shape: 'ndjson lines', decoder: 'json/ndjson', make: (b) => repeatText(b, '', (i) => `{"tenant":"acme","n":${i}}\n`, '') },
  {
    codec: 'avro',
    shape: 'long varints (10 bytes each)',
    decoder: 'avro/longs',
    make: (b) => {
      const n = count(b, 10);
      return Buffer.concat([zigzagVarint(n), Buffer.from(new Array<number[]>(n).fill(MAX_LONG_VARINT).flat()), Buffer.from([0])]);
    },
  },
  { codec: 'avro', shape: 'one endless varint', decoder: 'avro/longs', make: (b) => Buffer.concat([Buffer.alloc(b - 1, 0x80), Buffer.from([0])]) },
  {
    codec: 'avro',
    shape: 'many map keys',
    decoder: 'avro/map',
    make: (b) => {
      const n = count(b, 12);
      const entries: Buffer[] = [zigzagVarint(n)];
      for (let i = 0; i < n; i++) {
        const key = Buffer.from(`k${i}`.padEnd(8, '_'));
        entries.push(zigzagVarint(key.length), key, Buffer.from([4, 0x76, 0x76]));
      }
      entries.push(Buffer.from([0]));
      return Buffer.concat(entries);
    },
  },
  {
    codec: 'avro',
    shape: 'deep nesting',
    decoder: 'avro/tree',
    make: (b) => {
      const depth = count(b, 2);
      return Buffer.concat([Buffer.alloc(depth, 0x02), Buffer.alloc(depth + 1, 0x00)]);
    },
  },
  {
    codec: 'otlp_proto',
    shape: 'many attributes',
    make: (b) => request((ss) => embed(ss, 2, spanWith((s) => {
      for (let i = 0, n = count(b, 24); i < n; i++) embed(s, 9, message((kv) => embed(text(kv, 1, `attr.${i}`), 2, message((v) => text(v, 1, 'value')))));
    }))),
  },
  {
    codec: 'otlp_proto',
    shape: 'many spans',
    make: (b) => request((ss) => {
      for (let i = 0, n = count(b, 50); i < n; i++) embed(ss, 2, spanWith(() => undefined));
    }),
  },
  {
    codec: 'otlp_proto',
    shape: 'long varints',
    make: (b) => request((ss) => embed(ss, 2, spanWith((s) => {
      for (let i = 0, n = count(b, 20); i < n; i++) embed(s, 9, message((kv) => embed(text(kv, 1, 'i'), 2, message((v) => v.uint32(3 << 3).int64('-9223372036854775808')))));
    }))),
  },
  {
    codec: 'otlp_proto',
    shape: 'deep nesting',
    make: (b) => {
      // AnyValue.array_value (field 5) → ArrayValue.values (field 1) → AnyValue ..., in one attribute.
      const value = nested([(5 << 3) | LEN, (1 << 3) | LEN], count(b, 8), message((v) => text(v, 1, 'leaf')));
      return request((ss) => embed(ss, 2, spanWith((s) => embed(s, 9, message((kv) => embed(text(kv, 1, 'deep'), 2, value))))));
    },
  },
  {
    codec: 'otlp_json',
    shape: 'many attributes',
    make: (b) =>
      repeatText(b, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"chat","attributes":[', (i) => `{"key":"attr.${i}","value":{"stringValue":"v"}},`, '{"key":"end","value":{}}]}]}]}]}'),
  },
  {
    codec: 'otlp_json',
    shape: 'many spans',
    make: (b) =>
      repeatText(b, '{"resourceSpans":[{"scopeSpans":[{"spans":[', (i) => `{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"s${i}"},`, '{}]}]}]}'),
  },
  {
    codec: 'otlp_json',
    shape: 'deep nesting',
    make: (b) => {
      const depth = count(b, 30);
      return Buffer.from(
        `{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"d","value":${'{"arrayValue":{"values":['.repeat(depth)}${']}}'.repeat(depth)}}]}]}]}]}`,
      );
    },
  },
  { codec: 'prometheus_text', shape: 'many samples', make: (b) => repeatText(b, '# TYPE gpu_util gauge\n', (i) => `gpu_util{gpu="${i}"} ${i}\n`, '') },
  { codec: 'prometheus_text', shape: 'many labels', make: (b) => repeatText(b, 'wide{', (i) => `label_${i}="v",`, 'last="v"} 1\n') },
  { codec: 'prometheus_text', shape: 'long label value', make: (b) => Buffer.from(`m{v="${'x\\"'.repeat(count(b, 3))}"} 1\n`) },
  {
    codec: 'prometheus_text',
    shape: 'many families',
    make: (b) => repeatText(b, '', (i) => `# HELP f_${i} Family ${i}.\n# TYPE f_${i} counter\nf_${i}_total 1\n`, ''),
  },
];

function zigzagVarint(n: number): Buffer {
  const out = Buffer.alloc(10);
  return out.subarray(0, writeVarint(out, 0, n * 2));
}
