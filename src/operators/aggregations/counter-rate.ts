import { z } from 'zod';
import { positiveDurationSchema } from '../../core/duration.ts';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { MemberInput, type MemberSample } from './rollup.ts';

export type CounterRateOutput = 'total' | 'rate';

export interface CounterRateOptions {
  /** `total` (default): a counter that never resets; `rate`: per-second increase since the previous emission. */
  readonly output?: CounterRateOutput;
  /**
   * Forget a member whose newest sample is this much older than the window end (event time),
   * so member churn (pods, jobs) does not grow the series' state without bound. A member that
   * comes back after that starts afresh: its first sample contributes 0. Default: never.
   */
  readonly memberExpiryMs?: number;
}

/**
 * One member's samples, summarised as a span: its first and last sample (event time order) and
 * `resets`, the sum of the values just before each reset inside the span. The span's increase
 * is then `lastV - firstV + resets` (Prometheus' `increase()` without extrapolation: a drop is a
 * restart from 0, so it adds the new value), exactly however the span was split and merged.
 */
export interface MemberSpan {
  firstT: number;
  firstV: number;
  lastT: number;
  lastV: number;
  resets: number;
}

/**
 * `members`: the spans not yet counted in `total`. `total`: the increase counted at previous
 * emits. `lastEmitMs`: the previous emit's timestamp (null before the first).
 */
export interface CounterRateState {
  readonly members: Map<string, MemberSpan>;
  total: number;
  lastEmitMs: number | null;
}

type SpanWire = [key: string, firstT: number, firstV: number, lastT: number, lastV: number, resets: number];
type StateWire = [total: number, lastEmitMs: number | null, members: SpanWire[]];

/**
 * Prometheus counters (monotonic, reset to a lower value when an exporter restarts) of many
 * member series — one per `memberFields` value, e.g. `labels.Hostname` + `labels.gpu` — turned
 * into one reset-corrected increase summed over the members: a counter that never resets
 * (`output: 'total'`), or its per-second rate between emissions (`output: 'rate'`).
 *
 * Per member, in event-time order: an increase `v - prev` when `v >= prev`, else `v` (a restart
 * from 0); a member's first sample ever contributes 0. The series' cumulative accumulator keeps
 * each member's last sample across windows, so the increase from one window's last sample to
 * the next window's first (however many windows later the member reports again) is counted.
 *
 * Merging is exact and associative for fragments that are ordered in time per member (stage 1
 * flushes of one partition; a pane into the cumulative state). Samples that fall inside a span
 * already covered — out-of-order samples, or a member's samples interleaved across fragments —
 * are dropped deterministically (see `mergeSpan`); for a counter that did not reset in that
 * stretch this changes nothing, since the increase only depends on the span's ends.
 *
 * `emit` mutates the accumulator: it adds the spans' increase to `total`, collapses each span
 * to its last sample (the bridge to the next window) and records the emit time. The merger
 * calls it exactly once per window end for every active series, in window order.
 */
export class CounterRateAggregator implements Aggregator<CounterRateState, MemberSample> {
  readonly cumulative = true;
  readonly output: CounterRateOutput;
  readonly metric: MetricDescriptor;
  private readonly memberExpiryMs: number;
  private readonly input: MemberInput;

  constructor(
    readonly name: string,
    valueField: string,
    memberFields: readonly string[],
    options: CounterRateOptions = {},
    about: MetricAbout = {},
  ) {
    this.output = options.output ?? 'total';
    this.metric = describeMetric(name, this.output === 'total' ? 'counter' : 'gauge', about);
    this.memberExpiryMs = options.memberExpiryMs ?? Number.POSITIVE_INFINITY;
    if (!(this.memberExpiryMs > 0)) throw new Error(`${name}: memberExpiryMs must be > 0`);
    this.input = new MemberInput(name, valueField, memberFields, true);
  }

  read(record: Record<string, unknown>): MemberSample | InvalidInput {
    return this.input.read(record);
  }

  create(): CounterRateState {
    return { members: new Map(), total: 0, lastEmitMs: null };
  }

  add(acc: CounterRateState, input: MemberSample, eventTimeMs: number): void {
    const span = acc.members.get(input.key);
    if (span === undefined) acc.members.set(input.key, point(eventTimeMs, input.value));
    else addSample(span, eventTimeMs, input.value);
  }

  /** Never keeps a reference to `from`'s spans: panes stay intact in the merger's state. */
  merge(into: CounterRateState, from: CounterRateState): void {
    for (const [key, span] of from.members) {
      const existing = into.members.get(key);
      if (existing === undefined) into.members.set(key, { ...span });
      else mergeSpan(existing, span);
    }
    into.total += from.total;
    if (from.lastEmitMs !== null && (into.lastEmitMs === null || from.lastEmitMs > into.lastEmitMs)) into.lastEmitMs = from.lastEmitMs;
  }

  encode(acc: CounterRateState): unknown {
    const members: SpanWire[] = [];
    for (const [key, s] of acc.members) members.push([key, s.firstT, s.firstV, s.lastT, s.lastV, s.resets]);
    const wire: StateWire = [acc.total, acc.lastEmitMs, members];
    return wire;
  }

  decode(wire: unknown): CounterRateState {
    const [total, lastEmitMs, members] = wire as StateWire;
    const acc: CounterRateState = { members: new Map(), total, lastEmitMs: lastEmitMs ?? null };
    for (const [key, firstT, firstV, lastT, lastV, resets] of members) acc.members.set(key, { firstT, firstV, lastT, lastV, resets });
    return acc;
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return singleTarget(this.metric, base);
  }

  /**
   * Counts the spans' increase into `total` and emits `total`, or the increase divided by the
   * seconds since the previous emit (`windowSeconds` at the first: for tumbling windows the same,
   * for hopping windows the slide, which is what separates two emissions). Mutates `acc`.
   */
  emit(acc: CounterRateState, targets: readonly PointTarget[], timestampMs: number, windowSeconds: number, startMs: number, out: MetricPoint[]): void {
    if (acc.members.size === 0 && acc.lastEmitMs === null) return; // no sample yet: nothing to report
    const increases: number[] = [];
    const expiredBefore = timestampMs - this.memberExpiryMs;
    for (const [key, span] of acc.members) {
      if (span.lastT > span.firstT) {
        // >= 0 in exact arithmetic; clamped so that rounding can never make the total go down.
        const increase = span.lastV - span.firstV + span.resets;
        if (increase > 0) increases.push(increase);
        span.firstT = span.lastT;
        span.firstV = span.lastV;
        span.resets = 0;
      }
      if (span.lastT < expiredBefore) acc.members.delete(key);
    }
    // Sorted, so the rounding of the sum does not depend on the order members were merged in.
    increases.sort((a, b) => a - b);
    let increase = 0;
    for (const x of increases) increase += x;
    acc.total += increase;
    let value = acc.total;
    if (this.output === 'rate') {
      const seconds = acc.lastEmitMs !== null && timestampMs > acc.lastEmitMs ? (timestampMs - acc.lastEmitMs) / 1000 : windowSeconds;
      value = increase / seconds;
    }
    acc.lastEmitMs = timestampMs;
    const target = targets[0]!;
    // A rate is a gauge: no running total, so no start.
    if (this.output === 'rate') out.push({ metric: target.metric, labels: target.labels, timestampMs, value });
    else out.push({ metric: target.metric, labels: target.labels, timestampMs, startTimestampMs: startMs, value });
  }
}

function point(t: number, v: number): MemberSpan {
  return { firstT: t, firstV: v, lastT: t, lastV: v, resets: 0 };
}

/**
 * One sample into a span: appended after it, prepended before it, or — if it falls inside the
 * span (an out-of-order sample, or a second value at an end's timestamp) — dropped. A
 * single-sample span keeps the larger of two values at the same time, as `last` does.
 */
function addSample(span: MemberSpan, t: number, v: number): void {
  if (t > span.lastT) {
    if (v < span.lastV) span.resets += span.lastV;
    span.lastT = t;
    span.lastV = v;
  } else if (t < span.firstT) {
    if (span.firstV < v) span.resets += v;
    span.firstT = t;
    span.firstV = v;
  } else if (span.firstT === span.lastT && v > span.lastV) {
    span.firstV = v;
    span.lastV = v;
  }
}

/**
 * `from` into `into` (`from` is not modified). Spans that follow each other in time (sharing at
 * most one identical sample) are concatenated exactly, in either argument order. Overlapping
 * spans are merged as if ordered by first sample: the earlier-starting span (ties: the longer,
 * then the larger values) extended by the other's last sample; the other's inner samples count
 * as out-of-order. That is deterministic and symmetric, and exact for a counter that did not
 * reset inside the overlap.
 */
function mergeSpan(into: MemberSpan, from: MemberSpan): void {
  if (into.lastT < from.firstT || (into.lastT === from.firstT && into.lastV === from.firstV)) {
    into.resets = into.resets + from.resets + (from.firstV < into.lastV ? into.lastV : 0);
    into.lastT = from.lastT;
    into.lastV = from.lastV;
  } else if (from.lastT < into.firstT || (from.lastT === into.firstT && from.lastV === into.firstV)) {
    into.resets = from.resets + into.resets + (into.firstV < from.lastV ? from.lastV : 0);
    into.firstT = from.firstT;
    into.firstV = from.firstV;
  } else {
    const earlier = startsFirst(from, into) ? from : into;
    const later = earlier === from ? into : from;
    const merged = { ...earlier };
    addSample(merged, later.lastT, later.lastV);
    Object.assign(into, merged);
  }
}

/** Whether `a` is the span an overlap merge starts from; a total order, so the choice is symmetric. */
function startsFirst(a: MemberSpan, b: MemberSpan): boolean {
  if (a.firstT !== b.firstT) return a.firstT < b.firstT;
  if (a.lastT !== b.lastT) return a.lastT > b.lastT;
  if (a.firstV !== b.firstV) return a.firstV > b.firstV;
  if (a.lastV !== b.lastV) return a.lastV > b.lastV;
  return a.resets > b.resets;
}

export const counterRateMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name.'),
    type: z.literal('counter_rate').describe('Prometheus counters in, reset-corrected: a counter that never resets, or a per-second rate.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    output: z.enum(['total', 'rate']).default('total').describe('`total`: the summed increase as a counter (name it `_total`); `rate`: per second since the previous window.'),
    value: fieldPath.default('value').describe('Field holding the counter value.'),
    members: z.array(fieldPath).default([]).describe('Fields that identify a member counter, e.g. [labels.instance, labels.device, labels.port].'),
    member_expiry: positiveDurationSchema('member_expiry').optional().describe('Forget a member counter after this long without samples.'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict()
  .refine((m) => m.output !== 'total' || m.name.endsWith('_total'), { message: 'counter_rate with output total must be named "..._total"', path: ['name'] })
  .refine((m) => m.output !== 'rate' || !m.name.endsWith('_total'), { message: 'a rate is not a counter: do not end its name in "_total"', path: ['name'] });

export const counterRateKind = defineKind(counterRateMetricSchema, {
  create: (config, about) =>
    new CounterRateAggregator(
      config.name,
      config.value,
      config.members,
      { output: config.output, ...(config.member_expiry !== undefined ? { memberExpiryMs: config.member_expiry } : {}) },
      about,
    ),
});
