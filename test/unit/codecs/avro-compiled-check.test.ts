import { readdirSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { compileAvroCheck } from '../../../src/codecs/avro/compiled-check.ts';
import { AvroContract } from '../../../src/codecs/avro/contract.ts';
import { seededRandom } from '../../support/seeded-random.ts';
import { fixture } from './support/golden.ts';

const schemasDir = new URL('../../../schemas/', import.meta.url);
const shipped = readdirSync(schemasDir)
  .filter((file) => file.endsWith('.avsc'))
  .map((file) => ({ name: `schemas/${file}`, schema: JSON.parse(readFileSync(new URL(file, schemasDir), 'utf8')) as avro.Schema }));
const hostile = ['hostile-longs.avsc', 'hostile-map.avsc', 'hostile-tree.avsc'].map((file) => ({
  name: file,
  schema: JSON.parse(readFileSync(fixture(`avro/${file}`), 'utf8')) as avro.Schema,
}));
const conformance = JSON.parse(readFileSync(fixture('avro/conformance.json'), 'utf8')) as {
  cases: { name: string; writer: string; reader?: string; fastavro?: { ok: boolean; value?: unknown } }[];
};

/** Every kind of type and union avsc checks, nested records (one recursive) and defaults. */
const everything: avro.Schema = {
  type: 'record',
  name: 'Everything',
  fields: [
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double', default: 1.5 },
    { name: 'b', type: 'boolean' },
    { name: 's', type: 'string', default: 'x' },
    { name: 'n', type: 'null' },
    { name: 'y', type: 'bytes' },
    { name: 'fx', type: { type: 'fixed', name: 'Four', size: 4 } },
    { name: 'e', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN', 'BLUE'] }, default: 'RED' },
    { name: 'a', type: { type: 'array', items: 'int' } },
    { name: 'm', type: { type: 'map', values: ['null', 'double'] } },
    { name: 'r', type: { type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'long' }, { name: 'tag', type: ['null', 'string'], default: null }] } },
    { name: 'ru', type: ['null', 'Inner'], default: null },
    { name: 'tree', type: { type: 'record', name: 'Node', fields: [{ name: 'v', type: 'int' }, { name: 'next', type: ['null', 'Node'], default: null }] } },
    { name: 'u1', type: ['null', 'int', 'string'], default: null },
    { name: 'u2', type: ['long', 'boolean'] },
    { name: 'u3', type: ['null', 'Color', { type: 'array', items: 'string' }] },
    { name: 'u4', type: ['float', 'bytes', { type: 'map', values: 'int' }] },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'dec', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 }], default: null },
    { name: 'constructor', type: ['null', 'string'], default: null },
  ],
};

/** Schemas avsc refuses (a conformance case's long default beyond 2^53) have no verdicts to compare. */
const parses = (s: { schema: avro.Schema }): boolean => {
  try {
    avro.Type.forSchema(s.schema);
    return true;
  } catch {
    return false;
  }
};

const schemas = [
  ...shipped,
  ...hostile,
  { name: 'everything', schema: everything },
  ...conformance.cases.flatMap((c) => [
    { name: `conformance ${c.name} writer`, schema: JSON.parse(c.writer) as avro.Schema },
    ...(c.reader === undefined ? [] : [{ name: `conformance ${c.name} reader`, schema: JSON.parse(c.reader) as avro.Schema }]),
  ]),
].filter(parses);

/** Values that break one check or another: wrong types, nulls, ints out of range, non-integers, NaN, Infinity, … */
const PALETTE: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  1.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  9007199254740990,
  9007199254740991,
  -9007199254740991,
  2 ** 53,
  1e300,
  3.5e38,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '',
  'x',
  'RED',
  'toString',
  'constructor',
  '1',
  [],
  [1, 2],
  ['a'],
  [1.5],
  {},
  { x: 1 },
  { x: 1, tag: 'a' },
  { v: 1 },
  { v: 1, next: { v: 2, next: null } },
  { v: 1, next: { v: 'two' } },
  { a: 1, b: null },
  { a: 'x' },
  Buffer.from([1, 2, 3, 4]),
  Buffer.from([1]),
  Object.create(null) as unknown,
];

/** A verdict, or that it threw: avsc's int check `v === (v | 0)` throws on an object without valueOf, and so must the compiled one. */
function verdict(check: (value: unknown) => boolean, value: unknown): boolean | 'throws' {
  try {
    return check(value);
  } catch {
    return 'throws';
  }
}

/** A valid value of the schema and variants of it: each field set to each palette value, removed, or extra fields. */
function variants(type: avro.Type, random: () => number): unknown[] {
  const out: unknown[] = [...PALETTE];
  for (let k = 0; k < 3; k++) {
    let valid: unknown;
    try {
      valid = type.random();
    } catch {
      break; // a recursive schema's random value can recurse without end
    }
    out.push(valid);
    if (valid === null || typeof valid !== 'object' || Array.isArray(valid) || Buffer.isBuffer(valid)) continue;
    const record = valid as Record<string, unknown>;
    out.push({ ...record, extra: 1, another: 'field' });
    for (const name of Object.keys(record)) {
      const { [name]: _removed, ...without } = record;
      out.push(without);
      for (const value of PALETTE) if (random() < 0.5 || k === 0) out.push({ ...record, [name]: value });
      // One level down: a nested record's fields broken the same way.
      const inner = record[name];
      if (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && !Buffer.isBuffer(inner)) {
        for (const innerName of Object.keys(inner)) for (const value of PALETTE) out.push({ ...record, [name]: { ...inner, [innerName]: value } });
      }
    }
    out.push([...Object.values(record)], Object.assign([], record));
  }
  return out;
}

describe('compileAvroCheck: exactly avsc Type.isValid', () => {
  it.each(schemas.map((s) => [s.name, s.schema] as const))('%s', (_name, schema) => {
    const type = avro.Type.forSchema(schema);
    const check = compileAvroCheck(type);
    if (type.typeName !== 'record') {
      expect(check).toBeUndefined();
      return;
    }
    expect(check).toBeDefined();
    const random = seededRandom(7);
    const values = variants(type, random);
    let invalid = 0;
    for (const value of values) {
      const expected = verdict((v) => type.isValid(v), value);
      if (expected === false) invalid++;
      const got = verdict(check!, value);
      if (got !== expected) throw new Error(`verdict differs on ${String(JSON.stringify(value))}: avsc ${expected}, compiled ${got}`);
    }
    // The set reaches both verdicts, so the comparison is not one-sided (a recursive schema without
    // a random value of its own has only the palette, all of it invalid).
    expect(invalid).toBeGreaterThan(0);
    if (values.length > PALETTE.length) expect(invalid).toBeLessThan(values.length);
  });

  it('gives avsc verdicts on the committed JSON and Avro fixtures', () => {
    const gateway = avro.Type.forSchema(shipped.find((s) => s.name.endsWith('bailian-gateway-log.avsc'))!.schema);
    const check = compileAvroCheck(gateway)!;
    const records = readFileSync(fixture('json/gateway-logs.ndjson'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as unknown);
    const expected = JSON.parse(readFileSync(fixture('json/gateway-logs.expected.json'), 'utf8')) as unknown[];
    for (const record of [...records, ...expected]) expect(check(record)).toBe(gateway.isValid(record));
    for (const c of conformance.cases) {
      if (c.fastavro?.ok !== true || !parses({ schema: JSON.parse(c.reader ?? c.writer) as avro.Schema })) continue;
      const type = avro.Type.forSchema(JSON.parse(c.reader ?? c.writer) as avro.Schema);
      const compiled = compileAvroCheck(type);
      if (compiled !== undefined) expect(compiled(c.fastavro.value)).toBe(type.isValid(c.fastavro.value));
    }
  });

  it('keeps avsc for a schema that is not a record', () => {
    expect(compileAvroCheck(avro.Type.forSchema({ type: 'array', items: 'int' }))).toBeUndefined();
    const contract = new AvroContract({ type: 'map', values: 'int' }, 'map.avsc');
    expect(contract.check({ a: 1 })).toBeUndefined();
    expect(contract.check({ a: 'x' })?.detail).toBe('a: expected int, got string');
  });

  it('never puts a field name into the generated text', () => {
    const check = compileAvroCheck(avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'evil_name_xyz', type: 'int' }] }))!;
    expect(check.toString()).not.toContain('evil_name_xyz');
    expect(check({ evil_name_xyz: 1 })).toBe(true);
    expect(check({ evil_name_xyz: 1.5 })).toBe(false);
  });
});
