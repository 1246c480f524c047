import { z } from 'zod';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import { compileFieldGetter, type FieldGetter } from '../../core/field-path.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';

export type RollupAggregate = 'avg' | 'sum' | 'min' | 'max' | 'count';

/** Joins member field values into one member key (no field value holds this control character). */
const MEMBER_SEPARATOR = '\u0001';

/** One record's input to a member-keyed aggregator: which member series, and its value. */
export interface MemberSample {
  readonly key: string;
  readonly value: number;
}

/**
 * Reads a numeric value and a member key (one source series, e.g. `labels.Hostname` +
 * `labels.gpu`) from a record, for the aggregators that keep per-member state. A rejected
 * record gets a precise reason (one rejection per field and cause, built here once).
 */
export class MemberInput {
  private readonly getValue: FieldGetter;
  private readonly getMembers: readonly FieldGetter[];
  private readonly reasons: {
    readonly missingValue: InvalidInput;
    readonly notFinite: ReadonlyMap<string, InvalidInput>;
    readonly negative: InvalidInput;
    readonly missingMember: readonly InvalidInput[];
    readonly badMember: readonly ReadonlyMap<string, InvalidInput>[];
  };

  constructor(
    name: string,
    valueField: string,
    memberFields: readonly string[],
    private readonly nonNegative: boolean,
  ) {
    this.getValue = compileFieldGetter(valueField);
    this.getMembers = memberFields.map((field) => compileFieldGetter(field));
    const kinds = ['null', 'a string', 'a boolean', 'an object', 'an array', 'NaN', 'Infinity', '-Infinity', 'a bigint', 'a function', 'a symbol'];
    const value = `${name}: field "${valueField}"`;
    const member = (field: string) => `${name}: member field "${field}"`;
    const invalid = (detail: string) => new InvalidInput(detail);
    this.reasons = {
      missingValue: invalid(`${value} is missing`),
      notFinite: new Map(kinds.map((kind) => [kind, invalid(`${value} is not a finite number (got ${kind})`)])),
      negative: invalid(`${value} is negative (a counter is >= 0)`),
      missingMember: memberFields.map((field) => invalid(`${member(field)} is missing`)),
      badMember: memberFields.map(
        (field) => new Map(kinds.map((kind) => [kind, invalid(`${member(field)} is not a string, number or boolean (got ${kind})`)])),
      ),
    };
  }

  /** The member key and value, or why the record cannot count. */
  read(record: Record<string, unknown>): MemberSample | InvalidInput {
    const raw = this.getValue(record);
    if (typeof raw !== 'number' || !Number.isFinite(raw)) return raw === undefined ? this.reasons.missingValue : this.reasons.notFinite.get(kindOf(raw))!;
    if (this.nonNegative && raw < 0) return this.reasons.negative;
    let key = '';
    for (let i = 0; i < this.getMembers.length; i++) {
      const part = this.getMembers[i]!(record);
      let text: string;
      if (typeof part === 'string') text = part;
      else if (typeof part === 'number' || typeof part === 'boolean') text = String(part);
      else return part === undefined ? this.reasons.missingMember[i]! : this.reasons.badMember[i]!.get(kindOf(part))!;
      key = i === 0 ? text : key + MEMBER_SEPARATOR + text;
    }
    return { key, value: raw };
  }
}

function kindOf(raw: unknown): string {
  if (raw === null) return 'null';
  if (typeof raw === 'number') return Number.isNaN(raw) ? 'NaN' : raw > 0 ? 'Infinity' : '-Infinity';
  if (typeof raw === 'object') return Array.isArray(raw) ? 'an array' : 'an object';
  return typeof raw === 'string' ? 'a string' : typeof raw === 'boolean' ? 'a boolean' : `a ${typeof raw}`;
}

/** One member's newest sample in the window: [event time ms, value]. Never mutated, only replaced. */
export type MemberLast = readonly [timeMs: number, value: number];

/**
 * A rollup over member series, one value per window: each member (a source series, identified
 * by `memberFields`) contributes its last value in the window — newest event time, and among
 * equal times the largest value, so any merge order gives the same result — and the window's
 * value is the `aggregate` (avg, sum, min, max or count) over those values. Windows in which
 * the series has no member emit nothing. Accumulator: member key → [time, value].
 */
export class RollupAggregator implements Aggregator<Map<string, MemberLast>, MemberSample> {
  readonly cumulative = false;
  readonly metric: MetricDescriptor;
  private readonly input: MemberInput;

  constructor(
    readonly name: string,
    valueField: string,
    memberFields: readonly string[],
    readonly aggregate: RollupAggregate,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'gauge', about);
    this.input = new MemberInput(name, valueField, memberFields, false);
  }

  read(record: Record<string, unknown>): MemberSample | InvalidInput {
    return this.input.read(record);
  }

  create(): Map<string, MemberLast> {
    return new Map();
  }

  add(acc: Map<string, MemberLast>, input: MemberSample, eventTimeMs: number): void {
    const current = acc.get(input.key);
    if (current === undefined || newer(eventTimeMs, input.value, current)) acc.set(input.key, [eventTimeMs, input.value]);
  }

  /** Per member, newest wins. Entries are immutable, so sharing them with `from` is safe. */
  merge(into: Map<string, MemberLast>, from: Map<string, MemberLast>): void {
    for (const [key, last] of from) {
      const current = into.get(key);
      if (current === undefined || newer(last[0], last[1], current)) into.set(key, last);
    }
  }

  encode(acc: Map<string, MemberLast>): unknown {
    const wire: [string, number, number][] = [];
    for (const [key, [t, v]] of acc) wire.push([key, t, v]);
    return wire;
  }

  decode(wire: unknown): Map<string, MemberLast> {
    const acc = new Map<string, MemberLast>();
    for (const [key, t, v] of wire as [string, number, number][]) acc.set(key, [t, v]);
    return acc;
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return singleTarget(this.metric, base);
  }

  emit(acc: Map<string, MemberLast>, targets: readonly PointTarget[], timestampMs: number, _w: number, _start: number, out: MetricPoint[]): void {
    if (acc.size === 0) return; // no member reported in the window: no value to report
    let value: number;
    if (this.aggregate === 'count') {
      value = acc.size;
    } else {
      // Sorted, so a sum's rounding does not depend on the order members were merged in.
      const values = new Float64Array(acc.size);
      let i = 0;
      for (const last of acc.values()) values[i++] = last[1];
      values.sort();
      switch (this.aggregate) {
        case 'min':
          value = values[0]!;
          break;
        case 'max':
          value = values[values.length - 1]!;
          break;
        case 'sum':
          value = sum(values);
          break;
        case 'avg':
          value = sum(values) / values.length;
          break;
      }
    }
    const target = targets[0]!;
    out.push({ metric: target.metric, labels: target.labels, timestampMs, value });
  }
}

function newer(t: number, v: number, than: MemberLast): boolean {
  return t > than[0] || (t === than[0] && v > than[1]);
}

function sum(values: Float64Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
}

export const rollupMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name.'),
    type: z.literal('rollup').describe('Per window: each member series\' newest value, combined across members.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    aggregate: z.enum(['avg', 'sum', 'min', 'max', 'count']).describe('How members\' newest values combine.'),
    value: fieldPath.default('value').describe('Field holding the sample value.'),
    members: z.array(fieldPath).default([]).describe('Fields that identify a member series, e.g. [labels.Hostname, labels.gpu].'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict();

export const rollupKind = defineKind(rollupMetricSchema, {
  create: (config, about) => new RollupAggregator(config.name, config.value, config.members, config.aggregate, about),
});
