import { z } from 'zod';
import { positiveDurationSchema } from '../../core/duration.ts';
import { BUCKETS_INCREASE, bucketsIncrease, bucketsSchema, defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { InvalidInput, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { HistogramAggregator } from './histogram.ts';
import { MemberInput, type MemberSample } from './rollup.ts';

/**
 * One parent (say an `invoke_agent` span) as far as it has been seen: whether the parent record
 * itself arrived, how many child records (its `chat` or `execute_tool` spans) arrived, and the
 * newest event time among them (for the bounded wait).
 */
export interface PendingParent {
  parent: boolean;
  children: number;
  lastT: number;
}

/** `histogram`: as HistogramAggregator's accumulator. `pending`: parents not yet observed. */
export interface ChildCountState {
  readonly histogram: Float64Array;
  readonly pending: Map<string, PendingParent>;
}

type PendingWire = [key: string, parent: 0 | 1, children: number, lastT: number];
type StateWire = [histogram: number[], pending: PendingWire[]];

/**
 * A histogram of how many children each parent has, joined in event time: each record carries a
 * join key (the parent's own id on the parent, the parent's id on a child) and a role (`1` for
 * the parent, `0` for a child). Records are folded per key; at each window end every key whose
 * parent has arrived is observed once with its number of children and forgotten.
 *
 * Children end before their parent, so they often fall into an earlier window: a key without its
 * parent stays pending across window ends, for at most `maxWaitMs` of event time after its newest
 * record, and is then dropped unobserved. Children that arrive after their parent was observed
 * (the parent's window closed) start a new key that never gets a parent and is dropped the same
 * way: they are not counted. Merging is exact and associative (flags or'ed, counts added, newest
 * time kept), so stage-1 partials, panes and replays give the same observations.
 */
export class ChildCountAggregator implements Aggregator<ChildCountState, MemberSample> {
  readonly cumulative = true;
  private readonly input: MemberInput;
  private readonly histogram: HistogramAggregator;

  constructor(
    readonly name: string,
    roleField: string,
    joinKeyField: string,
    buckets: readonly number[],
    private readonly maxWaitMs: number,
    about: MetricAbout = {},
  ) {
    if (!(maxWaitMs > 0)) throw new Error(`${name}: maxWaitMs must be > 0`);
    this.input = new MemberInput(name, roleField, [joinKeyField], true);
    this.histogram = new HistogramAggregator(name, roleField, 1, buckets, about);
  }

  /** The join key (as the member key) and the role (1: parent, 0: child) as the value. */
  read(record: Record<string, unknown>): MemberSample | InvalidInput {
    return this.input.read(record);
  }

  create(): ChildCountState {
    return { histogram: this.histogram.create(), pending: new Map() };
  }

  add(acc: ChildCountState, { key, value: role }: MemberSample, eventTimeMs: number): void {
    const isParent = role === 1;
    const entry = acc.pending.get(key);
    if (entry === undefined) acc.pending.set(key, { parent: isParent, children: isParent ? 0 : 1, lastT: eventTimeMs });
    else {
      if (isParent) entry.parent = true;
      else entry.children++;
      if (eventTimeMs > entry.lastT) entry.lastT = eventTimeMs;
    }
  }

  /** Never keeps a reference to `from`'s entries: panes stay intact in the merger's state. */
  merge(into: ChildCountState, from: ChildCountState): void {
    this.histogram.merge(into.histogram, from.histogram);
    for (const [key, p] of from.pending) {
      const entry = into.pending.get(key);
      if (entry === undefined) into.pending.set(key, { ...p });
      else {
        entry.parent ||= p.parent;
        entry.children += p.children;
        if (p.lastT > entry.lastT) entry.lastT = p.lastT;
      }
    }
  }

  encode(acc: ChildCountState): unknown {
    const pending: PendingWire[] = [];
    for (const [key, p] of acc.pending) pending.push([key, p.parent ? 1 : 0, p.children, p.lastT]);
    const wire: StateWire = [Array.from(acc.histogram), pending];
    return wire;
  }

  decode(wire: unknown): ChildCountState {
    const [histogram, pending] = wire as StateWire;
    const acc: ChildCountState = { histogram: Float64Array.from(histogram), pending: new Map() };
    for (const [key, parent, children, lastT] of pending) acc.pending.set(key, { parent: parent === 1, children, lastT });
    return acc;
  }

  get metric(): MetricDescriptor {
    return this.histogram.metric;
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return this.histogram.targets(base);
  }

  /**
   * Observes every key whose parent has arrived, drops keys that waited too long, then emits the
   * histogram (nothing before its first observation, so a series starts with a real value).
   * Mutates `acc`; the merger calls it once per window end, in window order.
   */
  emit(acc: ChildCountState, targets: readonly PointTarget[], timestampMs: number, windowSeconds: number, startMs: number, out: MetricPoint[]): void {
    const expiredBefore = timestampMs - this.maxWaitMs;
    for (const [key, p] of acc.pending) {
      if (p.parent) {
        this.histogram.add(acc.histogram, p.children);
        acc.pending.delete(key);
      } else if (p.lastT < expiredBefore) acc.pending.delete(key);
    }
    if (acc.histogram[acc.histogram.length - 1] === 0) return;
    this.histogram.emit(acc.histogram, targets, timestampMs, windowSeconds, startMs, out);
  }
}

export const childCountMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name.'),
    type: z
      .literal('child_count')
      .describe('A histogram of children per parent (e.g. model calls per agent invocation), joined by a key in event time.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    join_key: fieldPath.describe("Field joining a child to its parent: the parent's own id on the parent, the parent's id on a child."),
    role: fieldPath.describe('Field that is 1 on the parent record and 0 on a child record.'),
    buckets: bucketsSchema,
    max_wait: positiveDurationSchema('max_wait').describe(
      'How long (event time, after its newest record) a key waits for its parent; then it is dropped uncounted.',
    ),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict()
  .refine(bucketsIncrease, BUCKETS_INCREASE);

export const childCountKind = defineKind(childCountMetricSchema, {
  create: (config, about) => new ChildCountAggregator(config.name, config.role, config.join_key, config.buckets, config.max_wait, about),
});
