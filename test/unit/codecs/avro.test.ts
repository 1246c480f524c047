import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroDecodeConfigSchema, createAvroDecoder } from '../../../src/codecs/avro/index.ts';
import { CodecConfigError, EMPTY_CONTEXT, type DecodedRecord, type DecodeOutcome, type Decoder } from '../../../src/codecs/decoder.ts';
import { createJsonDecoder } from '../../../src/codecs/json/index.ts';
import { gatewayLogV1, gatewayLogV2, modelServingLog } from './support/avro-records.ts';
import { expectGolden, fixture, readFixture } from './support/golden.ts';
import { scratchDir } from '../../support/scratch-dir.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const V1 = 'schemas/bailian-gateway-log.avsc';
const V2 = 'schemas/bailian-gateway-log-v2.avsc';

const build = (config: Record<string, unknown>, baseDir = repoRoot): Decoder => createAvroDecoder(avroDecodeConfigSchema.parse({ codec: 'avro', ...config }), { baseDir });
const decode = (decoder: Decoder, bytes: Buffer): DecodeOutcome => decoder.decode(bytes, EMPTY_CONTEXT);
const records = (outcome: DecodeOutcome): readonly DecodedRecord[] => {
  if (!outcome.ok) throw new Error(`rejected: ${outcome.detail}`);
  return outcome.records;
};
const confluent = (id: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([0, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]), body]);

/** A scratch directory with ad-hoc schemas for edge cases. */
function schemaDir(schemas: Record<string, unknown>): string {
  const dir = scratchDir('avro');
  for (const [file, schema] of Object.entries(schemas)) writeFileSync(join(dir, file), JSON.stringify(schema));
  return dir;
}

describe('avro codec, framing: plain', () => {
  const plainV1 = build({ schema: V1 });

  it('decodes the golden gateway log into a plain object', () => {
    const [record] = records(decode(plainV1, readFixture('avro/gateway-log-v1.avro')));
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expectGolden(record, fixture('avro/gateway-log-v1.expected.json'));
  });

  it('gives the same values the JSON codec gives for the same record', () => {
    const [fromAvro] = records(decode(plainV1, readFixture('avro/gateway-log-v1.avro')));
    const fromJson = records(createJsonDecoder({ codec: 'json', framing: 'object' }, { baseDir: repoRoot }).decode(Buffer.from(JSON.stringify(gatewayLogV1)), EMPTY_CONTEXT));
    expect(fromAvro).toStrictEqual(fromJson[0]);
  });

  it('decodes the model-serving log (schemas/model-serving-log.avsc)', () => {
    const [record] = records(decode(build({ schema: 'schemas/model-serving-log.avsc' }), readFixture('avro/model-serving-log.avro')));
    expect(record).toStrictEqual(modelServingLog);
    expectGolden(record, fixture('avro/model-serving-log.expected.json'));
  });

  it('rejects a truncated body and bytes after the record, precisely', () => {
    const bytes = readFixture('avro/gateway-log-v1.avro');
    expect(decode(plainV1, bytes.subarray(0, 50))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: `avro: truncated: the 50-byte body ends inside the record (${V1})`,
    });
    expect(decode(plainV1, Buffer.concat([bytes, Buffer.from([1, 2])]))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: `avro: 2 bytes after the end of the record at byte ${bytes.length} (${V1})`,
    });
  });

  it('rejects an invalid union branch with avsc\'s reason', () => {
    // app_id is the 5th field, ["null","string"]: its branch index follows three strings and a long.
    const bytes = Buffer.from(readFixture('avro/gateway-log-v1.avro'));
    const type = avro.Type.forSchema({ type: 'record', name: 'P', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'long' }, { name: 'c', type: 'string' }, { name: 'd', type: 'string' }] });
    const offset = type.toBuffer({ a: gatewayLogV1.request_id, b: gatewayLogV1.timestamp, c: gatewayLogV1.tenant_id, d: gatewayLogV1.workspace_id }).length;
    bytes[offset] = 14; // zig-zag 7
    expect(decode(plainV1, bytes)).toEqual({ ok: false, reason: 'malformed', detail: `avro: invalid union index: 7 (${V1}, ${bytes.length}-byte body)` });
  });
});

describe('avro codec, framing: confluent, with schema evolution', () => {
  const toV2 = build({ framing: 'confluent', schema_ids: { 1: V1, 2: V2 }, reader_schema: V2 });
  const toV1 = build({ framing: 'confluent', schema_ids: { 1: V1, 2: V2 }, reader_schema: V1 });
  const asWritten = build({ framing: 'confluent', schema_ids: { 1: V1, 2: V2 } });

  it('resolves an old (v1) record to the new reader (v2): the added field takes its default', () => {
    const [record] = records(decode(toV2, readFixture('avro/gateway-log-v1.confluent.avro')));
    expect(record).toStrictEqual({ ...gatewayLogV1, finish_reason: null });
    expectGolden(record, fixture('avro/gateway-log-v1-read-as-v2.expected.json'));
  });

  it('resolves a new (v2) record to the old reader (v1): the added field is dropped', () => {
    const [record] = records(decode(toV1, readFixture('avro/gateway-log-v2.confluent.avro')));
    const { finish_reason: _dropped, ...expected } = gatewayLogV2;
    expect(record).toStrictEqual(expected);
    expectGolden(record, fixture('avro/gateway-log-v2-read-as-v1.expected.json'));
  });

  it('without a reader schema, keeps each record in its writer schema', () => {
    expect(records(decode(asWritten, readFixture('avro/gateway-log-v1.confluent.avro')))[0]).toStrictEqual(gatewayLogV1);
    expect(records(decode(asWritten, readFixture('avro/gateway-log-v2.confluent.avro')))[0]).toStrictEqual(gatewayLogV2);
  });

  it('rejects a wrong magic byte, a short header and an unknown schema id', () => {
    const v2 = readFixture('avro/gateway-log-v2.confluent.avro');
    expect(decode(toV2, Buffer.concat([Buffer.from([7]), v2.subarray(1)]))).toEqual({ ok: false, reason: 'malformed', detail: 'confluent: magic byte 0x07, expected 0x00' });
    expect(decode(toV2, Buffer.from([0, 0, 0]))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'confluent: 3-byte message is shorter than the 5-byte header (magic byte and schema id)',
    });
    expect(decode(toV2, confluent(42, v2.subarray(5)))).toEqual({ ok: false, reason: 'malformed', detail: 'confluent: unknown schema id 42 (configured: 1, 2)' });
  });

  it('names the schema id in body errors', () => {
    const v2 = readFixture('avro/gateway-log-v2.confluent.avro');
    expect(decode(toV2, v2.subarray(0, 40))).toEqual({ ok: false, reason: 'malformed', detail: `avro (schema id 2): truncated: the 35-byte body ends inside the record (${V2})` });
  });

  it('refuses at load time a writer the reader cannot resolve', () => {
    const dir = schemaDir({
      'reader.avsc': { type: 'record', name: 'GatewayCallLog', namespace: 'io.sluice.bailian', fields: [{ name: 'request_id', type: 'string' }, { name: 'region_code', type: 'string' }] },
    });
    expect(() => build({ framing: 'confluent', schema_ids: { 1: join(repoRoot, V1) }, reader_schema: 'reader.avsc' }, dir)).toThrow(CodecConfigError);
    try {
      build({ framing: 'confluent', schema_ids: { 1: join(repoRoot, V1) }, reader_schema: 'reader.avsc' }, dir);
    } catch (error) {
      expect((error as CodecConfigError).path).toEqual(['schema_ids', '1']);
      expect((error as Error).message).toMatch(/^records written with .*bailian-gateway-log\.avsc cannot be read with reader_schema reader\.avsc: /);
    }
  });
});

describe('avro values: plain JSON-like output', () => {
  const dir = schemaDir({
    'edge.avsc': {
      type: 'record',
      name: 'Edge',
      namespace: 't',
      fields: [
        { name: 'tags', type: { type: 'array', items: 'string' } },
        { name: 'counts', type: { type: 'map', values: 'long' } },
        { name: 'payload', type: 'bytes' },
        { name: 'trace', type: { type: 'fixed', name: 'TraceId', size: 4 } },
        { name: 'level', type: { type: 'enum', name: 'Level', symbols: ['DEBUG', 'INFO', 'WARN'] } },
        { name: 'inner', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'id', type: 'bytes' }, { name: 'n', type: 'int' }] }] },
        { name: 'items', type: { type: 'array', items: 'Inner' } },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      ],
    },
    'long.avsc': { type: 'record', name: 'L', fields: [{ name: 'v', type: 'long' }] },
  });
  const edge = build({ schema: 'edge.avsc' }, dir);

  it('turns records into plain objects, bytes and fixed into hex, enums into strings', () => {
    const writer = avro.Type.forSchema(JSON.parse(readFileSync(join(dir, 'edge.avsc'), 'utf8')) as avro.Schema, { wrapUnions: false });
    const bytes = writer.toBuffer({
      tags: ['a', 'b'],
      counts: { x: 1, y: -2 },
      payload: Buffer.from([0xde, 0xad]),
      trace: Buffer.from([1, 2, 3, 4]),
      level: 'WARN',
      inner: { id: Buffer.from([0xff]), n: 3 },
      items: [{ id: Buffer.from([0x0a]), n: 1 }],
      at: 1_790_000_000_123,
    });
    const [record] = records(decode(edge, bytes));
    expect(record).toStrictEqual({
      tags: ['a', 'b'],
      counts: { x: 1, y: -2 },
      payload: 'dead',
      trace: '01020304',
      level: 'WARN',
      inner: { id: 'ff', n: 3 },
      items: [{ id: '0a', n: 1 }],
      at: 1_790_000_000_123,
    });
    expect(Object.getPrototypeOf(record!.inner)).toBe(Object.prototype);
  });

  it('gives longs as numbers while exact and as decimal strings beyond ±2^53', () => {
    const long = build({ schema: 'long.avsc' }, dir);
    expect(records(decode(long, zigzag(-(2n ** 53n) + 1n)))[0]).toStrictEqual({ v: -9_007_199_254_740_991 });
    expect(records(decode(long, zigzag(2n ** 60n + 1n)))[0]).toStrictEqual({ v: '1152921504606846977' });
    expect(records(decode(long, zigzag(-(2n ** 63n))))[0]).toStrictEqual({ v: '-9223372036854775808' });
    // Around every boundary of the 8-10 byte path (2^49, 2^53, 2^56, 2^63), both signs.
    for (const edge of [2n ** 49n, 2n ** 53n, 2n ** 56n, 2n ** 62n, 2n ** 63n - 1n]) {
      for (const value of [edge - 1n, edge, edge + 1n, -edge - 1n, -edge, 1n - edge]) {
        if (value >= 2n ** 63n || value < -(2n ** 63n)) continue;
        const safe = value >= -BigInt(Number.MAX_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
        expect(records(decode(long, zigzag(value)))[0]).toStrictEqual({ v: safe ? Number(value) : value.toString() });
      }
    }
  });

  it('refuses a block count larger than the bytes left, before allocating (5 garbage bytes once claimed 2^31 items)', () => {
    const started = Date.now();
    expect(decode(edge, Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'avro: a block of 2147483647 items cannot fit in the 0 bytes left (edge.avsc, 5-byte body)',
    });
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('never throws on garbage', () => {
    let seed = 11;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const gateway = build({ schema: V1 });
    for (let n = 0; n < 3000; n++) {
      const bytes = Buffer.alloc(Math.floor(random() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      for (const decoder of [edge, gateway]) {
        const outcome = decode(decoder, bytes);
        if (!outcome.ok) expect(outcome.reason).toBe('malformed');
      }
    }
  });
});

describe('avro varints and schema evolution (issue 8)', () => {
  const dir = schemaDir({
    'long.avsc': { type: 'record', name: 'L', fields: [{ name: 'v', type: 'long' }] },
    'int.avsc': { type: 'record', name: 'I', fields: [{ name: 'v', type: 'int' }] },
    'status-v2.avsc': { type: 'record', name: 'S', fields: [{ name: 's', type: { type: 'enum', name: 'Status', symbols: ['OK', 'ERROR', 'PAUSED', 'GONE'] } }] },
    'status-v1.avsc': { type: 'record', name: 'S', fields: [{ name: 's', type: { type: 'enum', name: 'Status', symbols: ['OK', 'ERROR'] } }] },
    'status-v1-default.avsc': { type: 'record', name: 'S', fields: [{ name: 's', type: { type: 'enum', name: 'Status', symbols: ['OK', 'ERROR', 'OTHER'], default: 'OTHER' } }] },
  });

  it('refuses a long varint over 10 bytes, and one of 120 KB without reading it (it took 1.1 s and was accepted)', () => {
    const long = build({ schema: 'long.avsc' }, dir);
    const huge = Buffer.alloc(120_000, 0x80);
    huge[huge.length - 1] = 0;
    expect(decode(long, huge)).toEqual({ ok: false, reason: 'malformed', detail: 'avro: invalid long at byte 0: the varint is longer than 10 bytes (long.avsc, 120000-byte body)' });
    expect(decode(long, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'avro: invalid long at byte 0: the varint overflows 64 bits (long.avsc, 10-byte body)',
    });
    expect(decode(long, Buffer.from([0x80, 0x80]))).toMatchObject({ ok: false, detail: 'avro: truncated: the 2-byte body ends inside the record (long.avsc)' });
  });

  it('refuses an int varint over 5 bytes or beyond 32 bits', () => {
    const int = build({ schema: 'int.avsc' }, dir);
    expect(decode(int, Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]))).toEqual({ ok: true, records: [{ v: 2_147_483_647 }] });
    expect(decode(int, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))).toMatchObject({ ok: false, detail: 'avro: invalid int at byte 0: the varint is longer than 5 bytes (int.avsc, 6-byte body)' });
    expect(decode(int, Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x1f]))).toMatchObject({ ok: false, detail: 'avro: invalid int at byte 0: the varint overflows 32 bits (int.avsc, 5-byte body)' });
  });

  it('refuses a recursive record nested past 128 arrays, and one nested past the stack through unions', () => {
    const tree = build({ schema: 'avro/hostile-tree.avsc' }, fixture('').pathname);
    const nest = (levels: number) => Buffer.concat([Buffer.alloc(levels, 0x02), Buffer.alloc(levels + 1, 0x00)]);
    expect(decode(tree, nest(127))).toMatchObject({ ok: true });
    expect(decode(tree, nest(100_000))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'avro: arrays and maps nested deeper than 128 levels at byte 128 (avro/hostile-tree.avsc, 200001-byte body)',
    });
    const listDir = schemaDir({ 'list.avsc': { type: 'record', name: 'Cell', fields: [{ name: 'next', type: ['null', 'Cell'] }] } });
    const list = build({ schema: 'list.avsc' }, listDir);
    expect(decode(list, Buffer.from([2, 2, 0]))).toEqual({ ok: true, records: [{ next: { next: { next: null } } }] });
    expect(decode(list, Buffer.concat([Buffer.alloc(1_000_000, 2), Buffer.from([0])]))).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'avro: records nested too deeply to read (list.avsc, 1000001-byte body)',
    });
  });

  it('names the enum symbols a reader cannot read (it said: cannot read "Status" as "Status")', () => {
    expect(() => build({ schema: 'status-v2.avsc', reader_schema: 'status-v1.avsc' }, dir)).toThrow(
      'records written with status-v2.avsc cannot be read with reader_schema status-v1.avsc: enum Status: the writer\'s symbols "PAUSED", "GONE" are not in the reader\'s symbols, and the reader\'s enum has no `default` to read them as',
    );
    expect(decode(build({ schema: 'status-v2.avsc', reader_schema: 'status-v1-default.avsc' }, dir), Buffer.from([4]))).toEqual({ ok: true, records: [{ s: 'OTHER' }] });
  });
});

describe('avro codec config', () => {
  it('needs a writer schema per framing, and only the one that framing uses', () => {
    const issues = (config: Record<string, unknown>) => avroDecodeConfigSchema.safeParse({ codec: 'avro', ...config }).error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(issues({})).toEqual([['schema', '`framing: plain` needs `schema`, the writer schema']]);
    expect(issues({ framing: 'confluent', schema: V1 })).toEqual([
      ['schema_ids', '`framing: confluent` needs `schema_ids`, at least one id and its writer schema'],
      ['schema', '`framing: confluent` takes writer schemas from `schema_ids`, not `schema`'],
    ]);
    expect(issues({ framing: 'confluent', schema_ids: { v1: V1 } })?.[0]?.[0]).toBe('schema_ids.v1');
    expect(issues({ framing: 'confluent', schema_ids: { 1: V1 } })).toBeUndefined();
  });

  it('refuses at load time schemas that cannot be decoded safely', () => {
    const dir = schemaDir({
      'nulls.avsc': { type: 'record', name: 'N', fields: [{ name: 'xs', type: { type: 'array', items: 'null' } }] },
      'string.avsc': 'string',
    });
    expect(() => build({ schema: 'nulls.avsc' }, dir)).toThrow('Avro schema nulls.avsc: N.xs: array of null items can encode in zero bytes, so a message could claim any number of them');
    expect(() => build({ schema: 'string.avsc' }, dir)).toThrow('Avro schema string.avsc is a string; a decoded message must be a record');
    expect(() => build({ schema: 'missing.avsc' }, dir)).toThrow(/cannot read Avro schema .*missing\.avsc: ENOENT/);
  });
});

/** Avro's long encoding: zig-zag, then a base-128 varint. */
function zigzag(value: bigint): Buffer {
  let n = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0n);
  return Buffer.from(bytes);
}
