import { describe, expect, it } from 'vitest';
import { compileFieldGetter } from '../../src/core/field-path.ts';
import type { SeriesGroupPlan } from '../../src/operators/windowed-metrics/plan.ts';
import { MAX_RECORD_TUPLES, RecordSeries } from '../../src/operators/windowed-metrics/record-series.ts';
import { groupKeyPrefix, isSeriesId, seriesReader } from '../../src/operators/windowed-metrics/series-key.ts';

/*
 * One trie walk for every fixed group's series (record-series.ts): for any record it must give
 * exactly what each group's own reader gives, and never refuse a record itself.
 */

/** A fixed group reading label `name` from field `path`, for each [name, path]. */
const group = (labels: [string, string][]): SeriesGroupPlan => ({
  labelNames: labels.map(([name]) => name),
  labelGetters: labels.map(([, path]) => compileFieldGetter(path)),
  labelPaths: labels.map(([, path]) => path),
  aggregators: [],
});
const passthrough: SeriesGroupPlan = { labelNames: [], labelGetters: [], aggregators: [], dynamic: { name: (r) => r['name'], labels: (r) => r['labels'] } };

const groups = [group([['api', 'api'], ['model', 'model']]), group([['model', 'model']]), passthrough, group([['app', 'app_id'], ['code', 'http_status'], ['model', 'model']]), group([])];
const readers = groups.map((g, i) => seriesReader(g, groupKeyPrefix(i)));

describe('record series', () => {
  it("gives each fixed group's own series, the same objects, and none for passthrough groups", () => {
    const shared = RecordSeries.of(groups, readers)!;
    const records = [
      { api: 'chat', model: 'qwen', app_id: 'a1', http_status: 200 },
      { api: 'chat', model: 'qwen', app_id: 'a1', http_status: '200' },
      { api: 'embed', model: 'qwen', http_status: 429 },
      { api: 'chat', model: 'qwen', app_id: 'a1', http_status: 200 },
    ];
    for (const tenant of ['acme', 'globex']) {
      for (const record of records) {
        const leaf = shared.lookup(tenant, record)!.series;
        expect(leaf[2]).toBeUndefined();
        for (const g of [0, 1, 3, 4]) expect(leaf[g]).toBe(readers[g]!(tenant, record));
      }
    }
  });

  it('keeps no tuple that a group refuses: the caller then asks each group that takes the record', () => {
    const shared = RecordSeries.of(groups, readers)!;
    const record = { api: 'chat', model: 'qwen', app_id: { nested: true }, http_status: 200 };
    expect(shared.lookup('acme', record)).toBeUndefined();
    expect(shared.lookup('acme', record)).toBeUndefined();
    expect(readers[0]!('acme', record)).toMatchObject({ key: `0\u0002acme\u0000chat\u0000qwen` });
  });

  it('starts over past MAX_RECORD_TUPLES tuples and still gives the right series', () => {
    const shared = RecordSeries.of(groups, readers)!;
    for (let i = 0; i <= MAX_RECORD_TUPLES; i++) shared.lookup('acme', { api: 'chat', model: `m${i}` });
    const leaf = shared.lookup('acme', { api: 'chat', model: 'm0' })!.series;
    expect(leaf[0]!.key).toBe(`0\u0002acme\u0000chat\u0000m0`);
    expect(leaf[3]!.values).toEqual([undefined, undefined, 'm0']);
  });

  it("shares one plan's generated walk between combiners (source partitions), never their tuples", () => {
    const [first, second] = [RecordSeries.of(groups, readers)!, RecordSeries.of(groups, readers)!];
    // The walk V8 optimises once for every partition (record-series.ts's trieShapes).
    expect((first as unknown as { walk: unknown }).walk).toBe((second as unknown as { walk: unknown }).walk);
    const record = { api: 'chat', model: 'qwen', app_id: 'a1', http_status: 200 };
    const tuple = first.lookup('acme', record)!;
    tuple.partials[0] = { group: 0 } as never;
    // Each combiner's own trie: the second one's tuple is its own, without the first one's partial.
    expect(second.lookup('acme', record)).not.toBe(tuple);
    expect(second.lookup('acme', record)!.partials[0]).toBeUndefined();
    first.forgetPartials();
    expect(first.lookup('acme', record)).toBe(tuple);
  });

  it('gives one tuple per distinct label values (as a Map compares them), whatever values repeat or alternate', () => {
    const shared = RecordSeries.of(groups, readers)!;
    const tuples = new Map<string, unknown>(); // the tuple each distinct (tenant, values) got first
    const pools = { api: ['chat', 'embed', 'chat.completions.long'], model: ['qwen', 'qwen3-coder-plus', undefined], app_id: ['a1', null, 'application-9'], http_status: [200, -0, 0, 429, '200', Number.NaN] };
    let seed = 7;
    const pick = <T>(values: readonly T[]): T => values[(seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % values.length]!;
    for (let n = 0; n < 3_000; n++) {
      const record = { api: pick(pools.api), model: pick(pools.model), app_id: pick(pools.app_id), http_status: pick(pools.http_status) };
      const tenant = pick(['acme', 'globex']);
      const tuple = shared.lookup(tenant, record);
      if (tuple === undefined) {
        expect([0, 1, 3, 4].some((g) => !isSeriesId(readers[g]!(tenant, record)))).toBe(true); // a group refuses the labels
        continue;
      }
      for (const g of [0, 1, 3, 4]) expect(tuple.series[g]).toBe(readers[g]!(tenant, record));
      // Map keys are SameValueZero: -0 is 0, NaN is NaN.
      const key = JSON.stringify([tenant, ...Object.values(record).map((v) => (Object.is(v, -0) ? 0 : Number.isNaN(v) ? 'NaN' : v === undefined ? 'undefined' : v))]);
      if (!tuples.has(key)) tuples.set(key, tuple);
      expect(tuple).toBe(tuples.get(key));
    }
    expect(tuples.size).toBeGreaterThan(50);
  });

  it('is not built when there is nothing to share', () => {
    expect(RecordSeries.of([groups[0]!, passthrough], readers)).toBeUndefined();
    expect(RecordSeries.of([group([]), group([])], readers)).toBeUndefined();
    const { labelPaths: _unknown, ...withoutPaths } = groups[1]!;
    expect(RecordSeries.of([groups[0]!, withoutPaths], readers)).toBeUndefined();
  });
});
