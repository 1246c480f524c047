import { describe, expect, it } from 'vitest';
import { compileFieldGetter } from '../../src/core/field-path.ts';
import type { SeriesGroupPlan } from '../../src/operators/windowed-metrics/plan.ts';
import { groupKeyPrefix, isSeriesId, MAX_INTERNED_SERIES, readSeries, seriesReader } from '../../src/operators/windowed-metrics/series-key.ts';

/*
 * Series keys are interned per group (a trie keyed by raw label values): the key and label values
 * must be what building them per record gave, whatever order series arrive in, and a rejected
 * value must stay rejected.
 */

const group = (labelNames: string[]): SeriesGroupPlan => ({ labelNames, labelGetters: labelNames.map((n) => compileFieldGetter(n)), aggregators: [] });
const S = '\u0000';
const M = '\u0001';

function read(plan: SeriesGroupPlan, tenant: string, record: Record<string, unknown>, prefix = groupKeyPrefix(0)) {
  const out: (string | undefined)[] = new Array(plan.labelNames.length);
  const key = readSeries(plan, prefix, tenant, record, out);
  return { key, out };
}

describe('series keys', () => {
  it('gives the built key and values, the same string object for the same series', () => {
    const plan = group(['api', 'model']);
    const first = read(plan, 'acme', { api: 'chat', model: 'qwen' });
    expect(first).toEqual({ key: `0\u0002acme${S}chat${S}qwen`, out: ['chat', 'qwen'] });
    const again = read(plan, 'acme', { api: 'chat', model: 'qwen' });
    expect(again.key).toBe(first.key);
    expect(again.out).toEqual(['chat', 'qwen']);
    expect(read(plan, 'globex', { api: 'chat', model: 'qwen' }).key).toBe(`0\u0002globex${S}chat${S}qwen`);
    expect(read(plan, 'acme', { api: 'chat', model: 'qwen' }, groupKeyPrefix(1)).key).toBe(`1\u0002acme${S}chat${S}qwen`);
  });

  it('numbers, booleans and their text are one series; missing, null and empty are one series', () => {
    const plan = group(['code', 'flag']);
    const a = read(plan, 't', { code: 200, flag: true });
    const b = read(plan, 't', { code: '200', flag: 'true' });
    expect(a.key).toBe(`0\u0002t${S}200${S}true`);
    expect(b.key).toBe(a.key);
    expect(b.out).toEqual(['200', 'true']);
    const keys = [{}, { code: null, flag: '' }, { code: '', flag: null }].map((r) => read(plan, 't', r));
    for (const { key, out } of keys) {
      expect(key).toBe(`0\u0002t${S}${M}${S}${M}`);
      expect(out).toEqual([undefined, undefined]);
    }
  });

  it('rejects bad values every time they come, and reads the good ones after them', () => {
    const plan = group(['v']);
    for (let i = 0; i < 3; i++) {
      for (const bad of [{ v: 'a\nb' }, { v: 'x'.repeat(1025) }, { v: Number.NaN }, { v: { nested: 1 } }, { v: [1] }]) {
        expect(read(plan, 't', bad).key).toEqual({ reason: 'invalid_value', detail: 'label "v" is not a short single-line scalar' });
      }
      expect(read(plan, 't', { v: 'ok' }).key).toBe(`0\u0002t${S}ok`);
    }
  });

  it('a group without labels has one series per tenant', () => {
    const plan = group([]);
    expect(read(plan, 'acme', {}).key).toBe('0\u0002acme');
    expect(read(plan, 'acme', { x: 1 }).key).toBe('0\u0002acme');
    expect(read(plan, 'globex', {}).key).toBe('0\u0002globex');
  });

  it('stays exact past the interning bound (the trie starts over)', () => {
    const plan = group(['id']);
    const total = MAX_INTERNED_SERIES + 10;
    const wrong: number[] = [];
    for (let i = 0; i < total; i++) if (read(plan, 't', { id: i }).key !== `0\u0002t${S}${i}`) wrong.push(i);
    expect(wrong).toEqual([]);
    for (let i = 0; i < 20; i++) expect(read(plan, 't', { id: String(i) }).out).toEqual([String(i)]);
  }, 60_000);

  it('a reader hands out one series object per series (the combiner shares its values), a rejection for a bad value', () => {
    const plan = group(['api', 'model']);
    const reader = seriesReader(plan, groupKeyPrefix(2));
    const first = reader('acme', { api: 'chat', model: 'qwen' });
    expect(first).toEqual({ key: `2\u0002acme${S}chat${S}qwen`, values: ['chat', 'qwen'] });
    expect(reader('acme', { model: 'qwen', api: 'chat', other: 1 })).toBe(first);
    expect(reader('acme', { api: 'chat', model: 'qwen-max' })).not.toBe(first);
    const bad = reader('acme', { api: 'chat', model: 'a\tb' });
    expect(isSeriesId(bad)).toBe(false);
    expect(bad).toEqual({ reason: 'invalid_value', detail: 'label "model" is not a short single-line scalar' });
    // readSeries answers from the same interned series.
    expect(read(plan, 'acme', { api: 'chat', model: 'qwen' }, groupKeyPrefix(2))).toEqual({ key: `2\u0002acme${S}chat${S}qwen`, out: ['chat', 'qwen'] });
  });

  it('a passthrough reader takes name and labels from the record, sorted, empty values left out', () => {
    const plan: SeriesGroupPlan = { ...group([]), dynamic: { name: compileFieldGetter('name'), labels: compileFieldGetter('labels') } };
    const reader = seriesReader(plan, groupKeyPrefix(0));
    const read = reader('t', { name: 'up', labels: { job: 'a', instance: 'b', empty: '' } });
    expect(read).toEqual({ key: `0\u0002t${S}up${S}instance${M}b${S}job${M}a`, values: ['__name__', 'up', 'instance', 'b', 'job', 'a'] });
    expect(isSeriesId(reader('t', { name: 'not a name', labels: {} }))).toBe(false);
  });
});
