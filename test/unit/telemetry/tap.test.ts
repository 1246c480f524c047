import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../src/config/load.ts';
import { TapHub, type TapPoint } from '../../../src/telemetry/tap/hub.ts';
import { isLoopback, parseTapRequest } from '../../../src/telemetry/tap/endpoint.ts';
import { MAX_STRING_CHARS, REDACTED, redactRecord } from '../../../src/telemetry/tap/redact.ts';

const noFlags = (): Record<TapPoint, boolean> => ({ decode: false, transform: false, partials: false, samples: false, 'dead-letters': false });

describe('TapHub', () => {
  it('raises a point flag while a client taps it, and lowers it when the last one goes', () => {
    const flags = noFlags();
    const hub = new TapHub(flags);
    const a = hub.subscribe({ pipeline: 'p', point: 'samples', perSecond: 10 }, () => {});
    const b = hub.subscribe({ pipeline: 'q', point: 'samples', perSecond: 10 }, () => {});
    expect(flags).toEqual({ ...noFlags(), samples: true });
    a.close();
    expect(flags.samples).toBe(true);
    b.close();
    b.close();
    expect(flags).toEqual(noFlags());
  });

  it('samples at most perSecond events a second, builds a view only for what it hands out, and says how many it skipped', () => {
    let now = 1_000_000;
    const hub = new TapHub(noFlags(), () => now);
    const got: [unknown, number][] = [];
    hub.subscribe({ pipeline: 'p', point: 'decode', perSecond: 2 }, (event, skipped) => got.push([event, skipped]));
    let views = 0;
    const offer = (n: number) => hub.offer('decode', 'p', undefined, n, (item) => (views++, { n: item }));
    for (let n = 0; n < 5; n++) offer(n);
    expect(got).toEqual([[{ n: 0 }, 0], [{ n: 1 }, 0]]);
    now += 1_000;
    offer(5);
    expect(got.at(-1)).toEqual([{ n: 5 }, 3]);
    expect(views).toBe(3);
  });

  it('filters by pipeline, point and tenant, and keeps a throwing client away from the caller', () => {
    const hub = new TapHub(noFlags());
    const got: unknown[] = [];
    hub.subscribe({ pipeline: 'p', point: 'samples', tenant: 'acme', perSecond: 100 }, (event) => got.push(event));
    hub.subscribe({ pipeline: 'p', point: 'samples', perSecond: 100 }, () => {
      throw new Error('client gone');
    });
    const offer = (pipeline: string, point: TapPoint, tenant: string) => hub.offer(point, pipeline, tenant, null, () => ({ pipeline, point, tenant }));
    expect(() => {
      offer('p', 'samples', 'acme');
      offer('p', 'samples', 'globex');
      offer('q', 'samples', 'acme');
      offer('p', 'partials', 'acme');
    }).not.toThrow();
    expect(got).toEqual([{ pipeline: 'p', point: 'samples', tenant: 'acme' }]);
    expect([hub.wants('samples', 'p'), hub.wants('samples', 'q'), hub.wants('decode', 'p')]).toEqual([true, false, false]);
  });
});

describe('redactRecord', () => {
  it('redacts content and credential fields, and keeps ids, counts and labels', () => {
    const record = {
      tenant_id: 'acme',
      api_key_id: 'key-7',
      input_tokens: 120,
      prompt: 'my secret plan',
      response: { text: 'the answer' },
      messages: [{ role: 'user', content: 'hello' }],
      authorization: 'Bearer abc',
      attributes: { 'gen_ai.input.messages': '[...]', 'gen_ai.request.model': 'qwen-plus', 'http.request.header.x-api-key': 'k', 'gen_ai.choice.message.content': 'x' },
      user: { password: 'hunter2', name: 'n' },
      note: 'x'.repeat(MAX_STRING_CHARS + 50),
      big: 12n,
      raw: Buffer.from('abc'),
    };
    const out = redactRecord(record) as Record<string, any>;
    expect(out).toMatchObject({ tenant_id: 'acme', api_key_id: 'key-7', input_tokens: 120, prompt: REDACTED, response: REDACTED, messages: REDACTED, authorization: REDACTED, big: '12', raw: '(3 bytes)' });
    expect(out.attributes).toEqual({ 'gen_ai.input.messages': REDACTED, 'gen_ai.request.model': 'qwen-plus', 'http.request.header.x-api-key': REDACTED, 'gen_ai.choice.message.content': REDACTED });
    expect(out.user).toEqual({ password: REDACTED, name: 'n' });
    expect(out.note).toBe(`${'x'.repeat(MAX_STRING_CHARS)}…(${MAX_STRING_CHARS + 50} chars)`);
    expect(JSON.stringify(out)).not.toMatch(/secret plan|the answer|hello|Bearer|hunter2/);
  });

  it('bounds deep and wide values', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 50; i++) deep = { next: deep };
    expect(JSON.stringify(redactRecord(deep))).not.toContain('bottom');
    expect((redactRecord(Array.from({ length: 100 }, (_, i) => i)) as unknown[]).length).toBe(33);
  });
});

describe('tap requests', () => {
  const text = readFileSync(new URL('../../fixtures/pipelines/shutdown.yaml', import.meta.url), 'utf8');
  const env = { SD_PIPELINE: 'p1', SD_TOPIC: 't', SLUICE_KAFKA_BROKERS: 'b:9092', SLUICE_REDIS_URL: 'redis://r', SD_ACME_URL: 'http://a/w', SD_UNREACHABLE_URL: 'http://u/w' };
  const pipelines = [parsePipeline(text, 'p.yaml', env)];
  const parse = (query: string) => parseTapRequest(new URLSearchParams(query), pipelines);

  it('takes a known pipeline, a point, a tenant where the point knows it, a bounded limit and rate', () => {
    expect(parse('pipeline=p1&at=samples&tenant=acme&limit=5&rate=3')).toMatchObject({ point: 'samples', tenant: 'acme', limit: 5, rate: 3 });
    expect(parse('pipeline=p1')).toMatchObject({ point: 'transform', limit: 100, rate: 10 });
  });

  it('refuses what it cannot serve, with the reason', () => {
    expect(parse('pipeline=nope')).toEqual({ status: 404, error: 'no pipeline "nope" runs here; running: p1' });
    expect(parse('pipeline=p1&at=sinks')).toMatchObject({ status: 400, error: expect.stringContaining('at must be one of decode, transform') });
    expect(parse('pipeline=p1&at=decode&tenant=acme')).toMatchObject({ status: 400, error: expect.stringContaining('decode does not know the tenant') });
    expect(parse('pipeline=p1&limit=0')).toMatchObject({ status: 400 });
    expect(parse('pipeline=p1&rate=1.5')).toMatchObject({ status: 400 });
  });

  it('serves loopback clients only', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true]);
    expect(['10.0.0.1', '::ffff:10.0.0.1', '', undefined].map(isLoopback)).toEqual([false, false, false, false]);
  });
});
