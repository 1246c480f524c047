import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { avroDecodeConfigSchema, createAvroDecoder } from '../../../src/codecs/avro/index.ts';
import { EMPTY_CONTEXT } from '../../../src/codecs/decoder.ts';
import { createOtlpProtoDecoder, otlpProtoDecodeConfigSchema } from '../../../src/codecs/otlp-proto/index.ts';
import type { OtlpSpanRecord } from '../../../src/codecs/otlp/span-record.ts';
import { fixture } from './support/golden.ts';
import { scratchDir } from '../../support/scratch-dir.ts';

/**
 * The codecs against reference decoders: each case's verdict was recorded from fastavro (Avro) or
 * protobuf's own parser (OTLP) by the generator script beside the fixture (versions inside). Sluice
 * must agree, except where a case says it is deliberately stricter (`stricter`: then it must
 * refuse; src/codecs/README.md gives each reason).
 */
interface Cases<Case> {
  readonly versions: Record<string, string>;
  readonly cases: readonly Case[];
}
const load = <Case>(path: string): Cases<Case> => JSON.parse(readFileSync(fixture(path), 'utf8')) as Cases<Case>;

interface AvroCase {
  readonly name: string;
  readonly writer: string;
  readonly reader?: string;
  readonly hex: string;
  readonly fastavro: { readonly ok: true; readonly value: unknown; readonly consumed: number } | { readonly ok: false; readonly error: string };
  readonly stricter?: string;
}

describe('avro codec agrees with fastavro', () => {
  const { cases, versions } = load<AvroCase>('avro/conformance.json');

  it(`has the recorded cases (fastavro ${versions.fastavro})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const dir = scratchDir('avro-conformance');
    writeFileSync(join(dir, 'writer.avsc'), c.writer);
    if (c.reader !== undefined) writeFileSync(join(dir, 'reader.avsc'), c.reader);
    const config = avroDecodeConfigSchema.parse({ codec: 'avro', schema: 'writer.avsc', ...(c.reader === undefined ? {} : { reader_schema: 'reader.avsc' }) });
    const bytes = Buffer.from(c.hex, 'hex');
    const outcome = createAvroDecoder(config, { baseDir: dir }).decode(bytes, EMPTY_CONTEXT);
    if (c.stricter !== undefined || !c.fastavro.ok) {
      expect(outcome).toMatchObject({ ok: false, reason: 'malformed' });
      return;
    }
    expect(c.fastavro.consumed).toBe(bytes.length);
    expect(outcome).toEqual({ ok: true, records: [c.fastavro.value] });
  });
});

interface OtlpCase {
  readonly name: string;
  readonly hex: string;
  readonly protobuf: { readonly ok: true; readonly spans: readonly Record<string, unknown>[] } | { readonly ok: false; readonly error: string };
  readonly stricter?: string;
}

describe('otlp_proto codec agrees with protobuf', () => {
  const { cases, versions } = load<OtlpCase>('otlp/conformance.json');
  const decoder = createOtlpProtoDecoder(otlpProtoDecodeConfigSchema.parse({ codec: 'otlp_proto' }), { baseDir: '.' });

  it(`has the recorded cases (protobuf ${versions.protobuf})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const outcome = decoder.decode(Buffer.from(c.hex, 'hex'), EMPTY_CONTEXT);
    if (c.stricter !== undefined || !c.protobuf.ok) {
      expect(outcome).toMatchObject({ ok: false, reason: 'malformed' });
      return;
    }
    if (!outcome.ok) throw new Error(`rejected: ${outcome.detail}`);
    const seen = (outcome.records as OtlpSpanRecord[]).map((r) => ({ resource: r.resource, name: r.name, trace_id: r.trace_id, span_id: r.span_id, attributes: r.attributes }));
    expect(seen).toEqual(c.protobuf.spans);
  });
});
