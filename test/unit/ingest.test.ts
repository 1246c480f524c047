import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AvroContract } from '../../src/codecs/avro/contract.ts';
import { EMPTY_CONTEXT } from '../../src/codecs/decoder.ts';
import { createJsonDecoder } from '../../src/codecs/json/index.ts';
import { compileEventTime } from '../../src/operators/event-time.ts';
import { TenantResolver } from '../../src/tenancy/resolve.ts';

const contract = AvroContract.fromFile(fileURLToPath(new URL('../../schemas/bailian-gateway-log.avsc', import.meta.url)));

const goodLog = {
  request_id: 'r-1',
  timestamp: 1_790_000_000_123,
  tenant_id: 'acme',
  workspace_id: 'ws-acme-1',
  app_id: null,
  api_key_id: 'sk-id-1',
  model: 'qwen-plus',
  api: 'chat.completions',
  http_status: 429,
  error_code: 'Throttling.RateQuota',
  latency_ms: 12.5,
  ttft_ms: null,
  input_tokens: 100,
  output_tokens: 0,
  stream: true,
  region: 'cn-beijing',
};

describe('JSON decoder', () => {
  const decoder = createJsonDecoder({ codec: 'json', framing: 'object' }, { baseDir: '.' });

  it('decodes one object per message', () => {
    expect(decoder.decode(Buffer.from('{"a":1,"b":"x"}'), EMPTY_CONTEXT)).toEqual({ ok: true, records: [{ a: 1, b: 'x' }] });
  });

  it.each([
    ['{"a":', /^not JSON: /],
    ['[1,2]', /^expected a JSON object, got an array$/],
    ['null', /^expected a JSON object, got null$/],
    ['"text"', /^expected a JSON object, got a string$/],
    ['\u00ff\u00fe', /^not JSON: /],
  ])('rejects %j as malformed', (input, detail) => {
    const result = decoder.decode(Buffer.from(input), EMPTY_CONTEXT);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe('malformed');
      expect(result.detail).toMatch(detail);
    }
  });
});

describe('gateway log contract', () => {
  it('accepts a conforming record, extra fields and omitted defaults included', () => {
    expect(contract.check(goodLog)).toBeUndefined();
    expect(contract.check({ ...goodLog, added_by_newer_writer: 'x' })).toBeUndefined();
  });

  it('names every offending field and its expected type, never the value', () => {
    const { region: _dropped, ...withoutRegion } = goodLog;
    const rejection = contract.check({ ...withoutRegion, http_status: '200', latency_ms: 'secret-prompt' });
    expect(rejection).toEqual({
      reason: 'schema',
      detail: 'http_status: expected int, got string; latency_ms: expected double, got string; region: expected string, got nothing (missing)',
    });
  });

  it('rejects a fractional int', () => {
    expect(contract.check({ ...goodLog, input_tokens: 1.5 })?.detail).toBe('input_tokens: expected int, got number');
  });
});

describe('event time', () => {
  it('reads epoch milliseconds, seconds and RFC 3339', () => {
    expect(compileEventTime('timestamp', 'unix_ms')({ timestamp: 1_790_000_000_123 })).toBe(1_790_000_000_123);
    expect(compileEventTime('t', 'unix_s')({ t: 1_790_000_000.5 })).toBe(1_790_000_000_500);
    expect(compileEventTime('meta.at', 'rfc3339')({ meta: { at: '2026-11-28T10:00:00.250+08:00' } })).toBe(Date.UTC(2026, 10, 28, 2, 0, 0, 250));
  });

  it.each([[undefined], [null], [0], [-5], [1.5], ['1790000000123'], [Number.MAX_SAFE_INTEGER]])('rejects %j', (value) => {
    expect(compileEventTime('timestamp', 'unix_ms')({ timestamp: value })).toBeUndefined();
  });

  it('rejects loose date strings', () => {
    expect(compileEventTime('t', 'rfc3339')({ t: 'Nov 28 2026' })).toBeUndefined();
  });
});

describe('tenant resolution', () => {
  const resolver = new TenantResolver('tenant_id', { tenants: { acme: {} as never, globex: {} as never }, default_route: undefined });

  it('resolves only declared tenants', () => {
    expect(resolver.resolve({ tenant_id: 'acme' })).toBe('acme');
    expect(resolver.resolve({ tenant_id: 'umbrella' })).toEqual({ reason: 'unroutable', detail: 'field "tenant_id" names no declared tenant' });
    expect(resolver.resolve({ tenant_id: 'constructor' })).toMatchObject({ reason: 'unroutable' });
    expect(resolver.resolve({})).toEqual({ reason: 'unroutable', detail: 'no tenant: field "tenant_id" is empty' });
    expect(resolver.resolve({ tenant_id: ['acme'] })).toMatchObject({ reason: 'unroutable' });
  });

  it('with a default route, accepts any well-formed tenant id and still refuses malformed ones', () => {
    const routed = new TenantResolver('tenant_id', { tenants: {}, default_route: {} as never });
    expect(routed.resolve({ tenant_id: 'team-42' })).toBe('team-42');
    expect(routed.resolve({ tenant_id: 'a"}\nb' })).toMatchObject({ reason: 'unroutable' });
    expect(routed.resolve({ tenant_id: 'x'.repeat(65) })).toMatchObject({ reason: 'unroutable' });
  });
});
