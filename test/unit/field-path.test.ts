import { describe, expect, it } from 'vitest';
import { compileFieldGetter, fieldPathSegments } from '../../src/core/field-path.ts';

describe('field paths', () => {
  it('splits dotted and bracketed segments', () => {
    expect(fieldPathSegments('latency_ms')).toEqual(['latency_ms']);
    expect(fieldPathSegments('labels.gpu')).toEqual(['labels', 'gpu']);
    expect(fieldPathSegments('attributes["gen_ai.request.model"]')).toEqual(['attributes', 'gen_ai.request.model']);
    expect(fieldPathSegments('a["b.c"].d')).toEqual(['a', 'b.c', 'd']);
    expect(() => fieldPathSegments('a..b')).toThrow('invalid field path: a..b');
    expect(() => fieldPathSegments('a["b"')).toThrow();
  });

  it('reads nested own properties only', () => {
    const record = JSON.parse('{"attributes":{"gen_ai.request.model":"qwen-plus"},"labels":{"gpu":"0"},"n":1}') as Record<string, unknown>;
    expect(compileFieldGetter('attributes["gen_ai.request.model"]')(record)).toBe('qwen-plus');
    expect(compileFieldGetter('labels.gpu')(record)).toBe('0');
    expect(compileFieldGetter('labels.missing')(record)).toBeUndefined();
    expect(compileFieldGetter('n.x')(record)).toBeUndefined();
    expect(compileFieldGetter('constructor')(record)).toBeUndefined();
    expect(compileFieldGetter('labels.constructor')(record)).toBeUndefined();
  });

  it('reads keys that are no identifiers, and never inherited ones', () => {
    const odd = "it's.a `key` ${x}\n\u2028"; // quotes, a template, a line break and a line separator
    const record = { a: { [odd]: 7 }, toString: 'own', b: null } as Record<string, unknown>;
    expect(compileFieldGetter(`a["${odd}"]`)(record)).toBe(7);
    expect(compileFieldGetter('toString')(record)).toBe('own');
    expect(compileFieldGetter('toString')({})).toBeUndefined();
    expect(compileFieldGetter('__proto__')({})).toBeUndefined();
    expect(compileFieldGetter('valueOf')(Object.create(null) as Record<string, unknown>)).toBeUndefined();
    expect(compileFieldGetter('b.c')(record)).toBeUndefined();
    expect(compileFieldGetter('missing')(record)).toBeUndefined();
  });
});
