import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import type { PartialAggregate } from '../../src/operators/windowed-metrics/partial.ts';
import { planMetrics, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { compileGroupSteps } from '../../src/operators/windowed-metrics/group-steps.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';

/*
 * The combiner remembers, per label tuple, the partial each group's last record went into
 * (record-series.ts), and skips the pane lookup when the next record falls in the same pane.
 * Whatever the order of records and flushes, every record must land in its own series' partial
 * of its own pane, once, and a flush must leave no partial behind that later records still fill.
 */
const metrics = [
  { name: 'requests_total', type: 'counter', help: '', labels: { model: 'model', code: 'error_code' } },
  { name: 'tokens_total', type: 'counter', help: '', value: 'tokens', labels: { model: 'model', code: 'error_code' } },
  { name: 'by_model_total', type: 'counter', help: '', value: 'tokens', labels: { model: 'model' } },
  { name: 'samples', type: 'passthrough', help: '' },
].map((m) => metricSchema.parse(m));
const groups = planMetrics(metrics);

/** A deterministic stream: 3 models, 2 codes, 2 tenants, passthrough series by name and job, event times going back and forth. */
function* records(count: number) {
  let seed = 7;
  const next = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) >>> 8) % n;
  for (let i = 0; i < count; i++) {
    // Every 25th record just before a pane edge and the next one on it: a record on the edge is the next pane's.
    const edge = Math.floor((i * 97) / 10_000) * 10_000;
    const t = i % 25 === 0 ? edge - 1 : i % 25 === 1 ? edge : i * 97 - next(4_000);
    yield {
      tenant: next(2) === 0 ? 'acme' : 'globex',
      t,
      record: {
        model: `m${next(3)}`,
        error_code: next(3) === 0 ? 'E1' : null,
        tokens: next(100),
        name: next(2) === 0 ? 'up' : 'down',
        labels: { job: `j${next(3)}` },
        value: i,
      },
    };
  }
}

function run(windowing: Windowing, drainEvery: number) {
  const combiner = new PreAggregator(groups, windowing);
  const got = new Map<string, number>();
  const want = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string, by: number) => map.set(key, (map.get(key) ?? 0) + by);
  const collect = (partials: PartialAggregate[]) => {
    const seen = new Set<string>();
    for (const p of partials) {
      const key = `${p.group}|${p.tenant}|${JSON.stringify(p.labelValues)}|${p.start}`;
      expect(seen.has(key), `${key} twice in one flush`).toBe(false);
      seen.add(key);
      const accs = p.accs as Float64Array[];
      if (p.group === 0) {
        bump(got, `${key}|count`, accs[0]![0]!);
        bump(got, `${key}|tokens`, accs[1]![0]!);
      } else if (p.group === 1) bump(got, `${key}|tokens`, accs[0]![0]!);
      else bump(got, `${key}|values`, accs[0]![1]!); // a gauge's sum
    }
  };
  const slide = windowing.kind === 'panes' ? windowing.slideMs : 0;
  let n = 0;
  for (const { tenant, t, record } of records(3_000)) {
    expect(combiner.add(tenant, t, record)).toBeUndefined();
    const start = t - (((t % slide) + slide) % slide);
    const code = record.error_code ?? undefined;
    bump(want, `0|${tenant}|${JSON.stringify([code, record.model])}|${start}|count`, 1);
    bump(want, `0|${tenant}|${JSON.stringify([code, record.model])}|${start}|tokens`, record.tokens);
    bump(want, `1|${tenant}|${JSON.stringify([record.model])}|${start}|tokens`, record.tokens);
    bump(want, `2|${tenant}|${JSON.stringify(['__name__', record.name, 'job', record.labels.job])}|${start}|values`, record.value);
    if (++n % drainEvery === 0) collect(combiner.drain());
  }
  collect(combiner.drain());
  return { got, want };
}

describe('stage-1 combiner', () => {
  it("shares its plan's generated steps with every other combiner of the plan (source partitions), never their sums", () => {
    expect(compileGroupSteps(groups[0]!.aggregators)).toBe(compileGroupSteps(groups[0]!.aggregators));
    const windowing: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };
    const combiners = [new PreAggregator(groups, windowing), new PreAggregator(groups, windowing)];
    const want = [0, 0];
    let i = 0;
    for (const { tenant, t, record } of records(2_000)) {
      const c = i++ % 2; // alternate, as two partitions' records interleave in one process
      combiners[c]!.add(tenant, t, record);
      want[c]! += record.tokens;
    }
    const tokensOf = (partials: PartialAggregate[]) => partials.filter((p) => p.group === 1).reduce((sum, p) => sum + (p.accs as Float64Array[])[0]![0]!, 0);
    expect(combiners.map((c) => tokensOf(c.drain()))).toEqual(want);
    expect(want[0]).not.toBe(want[1]);
  });

  for (const [name, windowing] of [
    ['tumbling', { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 }],
    ['hopping', { kind: 'panes', sizeMs: 20_000, slideMs: 5_000 }],
  ] as const) {
    for (const drainEvery of [1, 37, 1_000_000]) {
      it(`puts every record in its series' partial of its pane, once (${name} windows, a flush every ${drainEvery} records)`, () => {
        const { got, want } = run(windowing, drainEvery);
        expect(got.size).toBeGreaterThan(100);
        expect(new Map([...got].sort())).toEqual(new Map([...want].sort()));
      });
    }
  }
});
