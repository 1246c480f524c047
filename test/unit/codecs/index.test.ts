import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createDecoder, decodeConfigSchema, EMPTY_CONTEXT } from '../../../src/codecs/index.ts';
import { readFixture } from './support/golden.ts';

const baseDir = fileURLToPath(new URL('../../../', import.meta.url));

describe('decode: config section', () => {
  it('picks the codec by `codec` and applies each codec\'s defaults', () => {
    expect(decodeConfigSchema.parse({ codec: 'json' })).toEqual({ codec: 'json', framing: 'object' });
    expect(decodeConfigSchema.parse({ codec: 'avro', schema: 'a.avsc' })).toEqual({ codec: 'avro', framing: 'plain', schema: 'a.avsc' });
    expect(decodeConfigSchema.parse({ codec: 'otlp_proto' })).toEqual({ codec: 'otlp_proto', keep_content_attributes: false });
    expect(decodeConfigSchema.parse({ codec: 'otlp_json' })).toEqual({ codec: 'otlp_json', keep_content_attributes: false });
    expect(decodeConfigSchema.parse({ codec: 'prometheus_text' })).toEqual({ codec: 'prometheus_text', grouping_key: { from: 'key' }, on_label_conflict: 'reject' });
  });

  it('names the codecs it knows when given another, and refuses options of another codec', () => {
    const unknown = decodeConfigSchema.safeParse({ codec: 'xml' });
    expect(unknown.error?.issues[0]).toMatchObject({ path: ['codec'], message: "Invalid discriminator value. Expected 'json' | 'avro' | 'otlp_proto' | 'otlp_json' | 'prometheus_text'" });
    const foreign = decodeConfigSchema.safeParse({ codec: 'otlp_proto', framing: 'ndjson' });
    expect(foreign.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['framing'] });
  });

  it('generates a JSON Schema with a description on every codec option', () => {
    const schema = z.toJSONSchema(decodeConfigSchema, { io: 'input', unrepresentable: 'any' }) as { oneOf: { properties: Record<string, { description?: string }> }[] };
    expect(schema.oneOf).toHaveLength(5);
    for (const option of schema.oneOf) for (const [name, property] of Object.entries(option.properties)) expect(property.description, name).toBeTruthy();
  });
});

describe('createDecoder', () => {
  it('builds each codec from its config', () => {
    const cases: [unknown, string][] = [
      [{ codec: 'json', framing: 'ndjson' }, 'json/gateway-logs.ndjson'],
      [{ codec: 'avro', schema: 'schemas/bailian-gateway-log.avsc' }, 'avro/gateway-log-v1.avro'],
      [{ codec: 'avro', framing: 'confluent', schema_ids: { 2: 'schemas/bailian-gateway-log-v2.avsc' } }, 'avro/gateway-log-v2.confluent.avro'],
      [{ codec: 'otlp_proto' }, 'otlp/genai-spans.pb'],
      [{ codec: 'otlp_json' }, 'otlp/genai-spans.collector.json'],
      [{ codec: 'prometheus_text', grouping_key: { from: 'none' } }, 'prometheus-text/node-infiniband.prom'],
    ];
    for (const [config, input] of cases) {
      const outcome = createDecoder(decodeConfigSchema.parse(config), { baseDir }).decode(readFixture(input), EMPTY_CONTEXT);
      expect(outcome.ok, input).toBe(true);
    }
  });
});
