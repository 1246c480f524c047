import { describe, expect, it } from 'vitest';
import { normalizeLabels, seriesKey, shardOf } from '../../../src/sinks/remote-write/series.ts';
import { labels } from './fixtures.ts';

const L = (pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));

describe('normalizeLabels', () => {
  it('returns the same array when nothing changes (identity caches keep working)', () => {
    const input = labels('m', { a: '1', b: '2' });
    expect(normalizeLabels(input, [])).toBe(input);
  });

  it('sorts, drops empty values and lets the tenant extra labels win', () => {
    const out = normalizeLabels(L([['tenant', 'globex'], ['__name__', 'm'], ['job', ''], ['a', 'x']]), L([['region', 'eu'], ['tenant', 'acme']]));
    expect(out).toEqual(L([['__name__', 'm'], ['a', 'x'], ['region', 'eu'], ['tenant', 'acme']]));
  });

  it('names the problem of a label set that cannot be sent', () => {
    const limits = { maxNameBytes: 10, maxValueBytes: 8, maxLabels: 3 };
    expect(normalizeLabels(L([['__name__', 'm'], ['bad-name', 'x']]), [], limits)).toBe('label name "bad-name" is invalid');
    expect(normalizeLabels(L([['__name__', 'm'], ['a', '123456789']]), [], limits)).toBe('label "a" has a value longer than 8 bytes');
    expect(normalizeLabels(L([['__name__', 'm'], ['a', 'ééééé']]), [], limits)).toBe('label "a" has a value longer than 8 bytes'); // 10 bytes
    expect(normalizeLabels(L([['__name__', 'm'], ['a', '1'], ['b', '1'], ['c', '1']]), [], limits)).toBe('more than 3 labels');
    expect(normalizeLabels(L([['__name__', 'm'], ['a', '1'], ['a', '2']]), [], limits)).toBe('duplicate label name "a"');
    expect(normalizeLabels(L([['b', '1'], ['__name__', 'm'], ['b', '2']]), [], limits)).toBe('duplicate label name "b"');
    expect(normalizeLabels(L([['a', '1']]), [], limits)).toBe('missing __name__ label');
    expect(normalizeLabels(L([['__name__', '1m']]), [], limits)).toBe('metric name "1m" is invalid');
    expect(normalizeLabels(L([['__name__', 'm'], ['a', 'x\uD800']]), [], limits)).toBe('label "a" has a value that is not valid UTF-8');
  });
});

describe('seriesKey / shardOf', () => {
  it('keys are injective even when values contain separators, quotes or JSON', () => {
    const a = seriesKey(L([['__name__', 'm'], ['a', '1","b","2']]));
    const b = seriesKey(L([['__name__', 'm'], ['a', '1'], ['b', '2']]));
    expect(a).not.toBe(b);
  });

  it('assigns shards stably: pinned values, the same in every process and restart', () => {
    const keys = ['{}', seriesKey(labels('up')), seriesKey(labels('http_requests_total', { code: '200', job: 'api' }))];
    expect(keys.map((k) => shardOf(k, 4))).toEqual([1, 1, 2]);
    expect(keys.map((k) => shardOf(k, 16))).toEqual([5, 1, 2]);
  });

  it('is FNV-1a 32-bit (known test vectors)', () => {
    // fnv1a32("a") = 0xe40c292c, fnv1a32("foobar") = 0xbf9cf968
    expect(shardOf('a', 1_000_000_007)).toBe(0xe40c292c % 1_000_000_007);
    expect(shardOf('foobar', 1_000_000_007)).toBe(0xbf9cf968 % 1_000_000_007);
  });

  it('spreads many series evenly over the shards', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(seriesKey(labels('m', { id: String(i) })), 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
