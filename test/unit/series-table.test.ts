import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import type { PartialAggregate } from '../../src/operators/windowed-metrics/partial.ts';
import { planMetrics } from '../../src/operators/windowed-metrics/plan.ts';
import { baseLabels, groupKeyPrefix, isSeriesId, overflowSeries, seriesReader } from '../../src/operators/windowed-metrics/series-key.ts';
import { NONE, SeriesTable } from '../../src/operators/windowed-metrics/series-table.ts';
import { seededRandom } from '../support/seeded-random.ts';

const groups = planMetrics(
  [
    { name: 'requests_total', type: 'counter', labels: { code: 'code', model: 'model' } },
    { name: 'pushed', type: 'passthrough' },
  ].map((m) => metricSchema.parse(m)),
);

/** A partial of group g as stage 1 makes it: its key and values from the series reader. */
function partialOf(g: number, tenant: string, record: Record<string, unknown>): PartialAggregate {
  const read = seriesReader(groups[g]!, groupKeyPrefix(g))(tenant, record);
  if (!isSeriesId(read)) throw new Error(read.detail);
  return { group: g, key: read.key, tenant, labelValues: read.values, start: 0, end: 10, accs: [], touched: 0 };
}

function add(table: SeriesTable, p: PartialAggregate, seq: number): number {
  return table.add(p.group, p.key, p.tenant, baseLabels(groups[p.group]!, p.labelValues, p.key), false, seq);
}

describe('series table', () => {
  it('finds each series by tenant and values through births, removals and growth, and lists them in birth order', () => {
    const table = new SeriesTable(groups);
    const random = seededRandom(3);
    const live = new Map<string, { handle: number; seq: number; partial: PartialAggregate }>();
    let seq = 0;
    for (let step = 0; step < 20_000; step++) {
      const code = String(Math.floor(random() * 300));
      const model = random() < 0.1 ? undefined : `m${Math.floor(random() * 30)}`;
      const p = random() < 0.2
        ? partialOf(1, random() < 0.5 ? 'acme' : 'beta', { name: 'gpu_util', labels: { gpu: code, ...(model ? { node: model } : {}) } })
        : partialOf(0, random() < 0.5 ? 'acme' : 'beta', { code, model });
      const known = live.get(p.key);
      expect(table.find(p)).toBe(known ? known.handle : NONE);
      if (known && random() < 0.5) {
        table.remove(known.handle);
        live.delete(p.key);
      } else if (!known) {
        const handle = add(table, p, seq);
        live.set(p.key, { handle, seq: seq++, partial: p });
      }
    }
    expect(table.size).toBe(live.size);
    const listed: number[] = [];
    for (let s = table.first; s !== NONE; s = table.next(s)) listed.push(table.seq(s));
    expect(listed).toEqual([...live.values()].map((l) => l.seq).sort((a, b) => a - b));
    for (const { handle, partial } of live.values()) {
      expect(table.find(partial)).toBe(handle);
      expect([table.tenant(handle), table.group(handle), table.labelValues(handle)]).toEqual([partial.tenant, partial.group, partial.labelValues]);
    }
  });

  it('rebuilds each series key exactly as stage 1 builds it, missing values and passthrough series included', () => {
    const table = new SeriesTable(groups);
    const partials = [
      partialOf(0, 'acme', { code: 200, model: 'qwen' }),
      partialOf(0, 'acme', { model: 'qwen' }),
      partialOf(0, 'acme', { code: '500' }),
      partialOf(0, 'beta', {}),
      partialOf(1, 'acme', { name: 'gpu_util', labels: { node: 'n1', gpu: '0' } }),
      partialOf(1, 'acme', { name: 'up', labels: {} }),
    ];
    partials.forEach((p, i) => expect(table.key(add(table, p, i))).toBe(p.key));
  });

  it('tells apart series with the same values under other labels or tenants', () => {
    const table = new SeriesTable(groups);
    const a = partialOf(0, 'acme', { code: 'x' });
    const b = partialOf(0, 'acme', { model: 'x' });
    const c = partialOf(0, 'beta', { code: 'x' });
    const handles = [a, b, c].map((p, i) => add(table, p, i));
    expect([a, b, c].map((p) => table.find(p))).toEqual(handles);
    expect(new Set(handles).size).toBe(3);
  });

  it('finds an overflow series by its key, not by its labels', () => {
    const table = new SeriesTable(groups);
    const overflow = overflowSeries(groups[0]!, 0, 'acme', ['500', 'qwen'], '2');
    const p: PartialAggregate = { ...partialOf(0, 'acme', { code: '500', model: 'qwen' }), key: overflow.key, labelValues: overflow.labelValues };
    expect(table.find(p)).toBe(NONE);
    const handle = table.add(0, p.key, 'acme', baseLabels(groups[0]!, p.labelValues, p.key), true, 0);
    expect([table.find(p), table.isOverflow(handle), table.key(handle)]).toEqual([handle, true, overflow.key]);
    expect(table.labelValues(handle)).toEqual(overflow.labelValues);
    table.remove(handle);
    expect([table.find(p), table.size]).toEqual([NONE, 0]);
  });
});
