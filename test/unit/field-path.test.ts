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
});
