// Fixtures shared by the unit tests of the member-keyed aggregators (counter_rate, rollup): samples
// of member series keyed by Hostname and gpu, folded into accumulators, and the stage 1 → stage 2
// path (a one-metric plan, partials over the wire into a WindowMerger).
import { expect } from 'vitest';
import { metricSchema } from '../../../src/config/schema.ts';
import { InvalidInput, type Aggregator } from '../../../src/operators/aggregations/aggregator.ts';
import type { MemberSample as MemberRead } from '../../../src/operators/aggregations/rollup.ts';
import type { PartialAggregate } from '../../../src/operators/windowed-metrics/partial.ts';
import { planMetrics, type SeriesGroupPlan } from '../../../src/operators/windowed-metrics/plan.ts';
import type { WindowMerger } from '../../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial } from '../../../src/runtime/repartition-codec.ts';

/** A sample of one member series: [Hostname, gpu, event time ms, value]. */
export type MemberSample = readonly [host: string, gpu: string, t: number, v: number];

/** The part of a member-keyed aggregator that folds records in. */
interface MemberAggregator<A> {
  create(): A;
  read(record: Record<string, unknown>): MemberRead | InvalidInput;
  add(acc: A, value: MemberRead, eventTimeMs: number): void;
}

/** A fresh accumulator with every sample added in order, each read from `record(host, gpu, v)`; throws on an invalid one. */
export function buildAcc<A>(
  agg: MemberAggregator<A>,
  record: (host: string, gpu: string, v: number) => Record<string, unknown>,
  samples: readonly MemberSample[],
): A {
  const acc = agg.create();
  for (const [host, gpu, t, v] of samples) {
    const value = agg.read(record(host, gpu, v));
    if (value instanceof InvalidInput) throw new Error(value.detail);
    agg.add(acc, value, t);
  }
  return acc;
}

/** The series-group plan of one placeholder gauge grouped by cluster, computing `aggregators` instead. */
export function singleGroupPlan(aggregators: readonly Aggregator[]): SeriesGroupPlan[] {
  const [base] = planMetrics([metricSchema.parse({ name: 'placeholder', type: 'gauge', aggregate: 'max', value: 'value', labels: { cluster: 'labels.cluster' } })]);
  return [{ ...base!, aggregators: [...aggregators] }];
}

/** Stage 1 → stage 2: each partial encoded for the wire, decoded, and accepted by `merger`. */
export function ship(merger: WindowMerger, groups: SeriesGroupPlan[], partials: PartialAggregate[]): void {
  for (const p of partials) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, groups), groups))).toBe('ok');
}

export function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i]!, ...tail];
  }
}
