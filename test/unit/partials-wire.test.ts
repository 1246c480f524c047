// The partials wire between stage 1 and stage 2 (src/codecs/partials/): random partials of every
// aggregation kind the shipped pipelines and the every-kind workload use must come back exactly,
// bit for bit, through a batch message, whatever their strings and numbers; batches split by
// size and keep order; the previous one-msgpack-per-message wire still reads.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodePartials, encodePartials, PARTIALS_WIRE_V1, PARTIALS_WIRE_V2 } from '../../src/codecs/partials/partials-wire.ts';
import { WireFormatError, WireWriter } from '../../src/codecs/partials/wire-bytes.ts';
import type { Aggregator } from '../../src/operators/aggregations/aggregator.ts';
import { isSeriesStateful } from '../../src/operators/aggregations/series-state.ts';
import type { PartialAggregate } from '../../src/operators/windowed-metrics/partial.ts';
import { planMetrics, type SeriesGroupPlan } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { decodeMarker, decodePartial, decodePartialsMessage, encodeMarker, encodePartial } from '../../src/runtime/repartition-codec.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { pipelines } from '../support/shipped-samples.ts';
import { EVERY_KIND, everyKindInput, WINDOWINGS } from './aggregations/every-kind.ts';

const packr = new Packr({ useRecords: false });

/** Every shipped pipeline's groups, then the every-kind workload's: one plan, groups numbered across. */
function allGroups(): SeriesGroupPlan[] {
  return [...pipelines.flatMap(({ config }) => planMetrics(config.metrics)), ...planMetrics(EVERY_KIND)];
}

const NUMBERS = [0, -0, 1, -1, 0.1, 1e-300, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 52 - 1, 2 ** 52, 2 ** 52 + 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e21, Number.NaN, Infinity, -Infinity, 1_767_225_600_000, 1_767_225_600_000.5];
const STRINGS = ['', 'qwen-plus', 'acme', 'é', '模型-通义千问', '😀 emoji', 'a\ud800b', '\udc00', 'x'.repeat(300), 'tab\u00a0nbsp', '\u{10ffff}'];

function pick<T>(random: () => number, from: readonly T[]): T {
  return from[Math.floor(random() * from.length)]!;
}

function randomNumber(random: () => number): number {
  return random() < 0.5 ? pick(random, NUMBERS) : (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
}

function randomString(random: () => number): string {
  if (random() < 0.6) return pick(random, STRINGS);
  let s = '';
  const n = Math.floor(random() * 12);
  for (let i = 0; i < n; i++) s += String.fromCharCode(random() < 0.8 ? 32 + Math.floor(random() * 95) : Math.floor(random() * 0x10000));
  return s;
}

/** An accumulator of the aggregator: plain numbers anywhere in range, or a state built by adding random numbers. */
function randomAcc(aggregator: Aggregator, random: () => number): unknown {
  const acc = aggregator.create();
  if (aggregator.plainNumbers && acc instanceof Float64Array) {
    for (let i = 0; i < acc.length; i++) acc[i] = randomNumber(random);
    return acc;
  }
  try {
    const adds = Math.floor(random() * 20);
    for (let i = 0; i < adds; i++) aggregator.add(acc, random() * 1000, 1_767_225_600_000 + i);
    aggregator.encode(acc);
    return acc;
  } catch {
    return aggregator.create(); // this kind takes other inputs than numbers: its empty state then
  }
}

function randomPartial(groups: readonly SeriesGroupPlan[], random: () => number): PartialAggregate {
  const group = Math.floor(random() * groups.length);
  const plan = groups[group]!;
  const labelValues = plan.labelNames.map(() => (random() < 0.15 ? undefined : randomString(random)));
  return {
    group,
    key: `${group}\u0002${randomString(random)}\u0000${labelValues.join('\u0000')}`,
    tenant: randomString(random),
    labelValues,
    start: randomNumber(random),
    end: randomNumber(random),
    accs: plan.aggregators.map((a) => randomAcc(a, random)),
    touched: Math.floor(random() * 2 ** 32) | 0,
  };
}

/** Bytes that pin an accumulator exactly: raw float64s, or its kind's own encoding. */
function accBytes(aggregator: Aggregator, acc: unknown): Uint8Array | undefined {
  if (acc === undefined) return undefined;
  if (acc instanceof Float64Array) return new Uint8Array(acc.buffer.slice(acc.byteOffset, acc.byteOffset + acc.byteLength));
  return packr.pack(aggregator.encode(acc));
}

function expectSame(groups: readonly SeriesGroupPlan[], got: PartialAggregate, want: PartialAggregate): void {
  expect(got.group).toBe(want.group);
  expect(got.key).toBe(want.key);
  expect(got.tenant).toBe(want.tenant);
  expect(got.labelValues.length).toBe(want.labelValues.length);
  want.labelValues.forEach((v, i) => expect(Object.is(got.labelValues[i], v), `label ${i}: ${got.labelValues[i]} vs ${v}`).toBe(true));
  expect(Object.is(got.start, want.start)).toBe(true);
  expect(Object.is(got.end, want.end)).toBe(true);
  expect(got.touched).toBe(want.touched);
  const aggregators = groups[want.group]!.aggregators;
  expect(got.accs.length).toBe(aggregators.length);
  aggregators.forEach((a, m) => expect(accBytes(a, got.accs[m]), `${a.name}`).toEqual(accBytes(a, want.accs[m])));
}

describe('partials wire', () => {
  it('gives back random partials of every shipped kind exactly: strings with lone surrogates, missing labels, NaN, ±Infinity, -0, huge counts', () => {
    const groups = allGroups();
    const aggregators = groups.flatMap((g) => g.aggregators);
    // Both paths of the wire: raw numbers, and opaque state (the drift and anomaly kinds among it).
    expect(aggregators.some((a) => a.plainNumbers)).toBe(true);
    expect(aggregators.some((a) => isSeriesStateful(a))).toBe(true);
    for (let seed = 1; seed <= 40; seed++) {
      const random = seededRandom(seed);
      const partials = Array.from({ length: 1 + Math.floor(random() * 30) }, () => randomPartial(groups, random));
      const messages = encodePartials(partials, groups);
      expect(messages.length).toBe(1);
      expect(messages[0]![0]).toBe(PARTIALS_WIRE_V2);
      const decoded = decodePartials(messages[0]!, groups);
      expect(decoded.length).toBe(partials.length);
      decoded.forEach((p, i) => expectSame(groups, p, partials[i]!));
    }
  });

  it('carries the real partials of every kind and windowing through one message each, as through one message per partial', () => {
    const groups = planMetrics(EVERY_KIND);
    for (const windowing of Object.values(WINDOWINGS)) {
      const pre = new PreAggregator(groups, windowing);
      for (const [tenant, t, record] of everyKindInput()) pre.add(tenant, t, record);
      const partials = pre.drain();
      expect(partials.length).toBeGreaterThan(20);
      const [message, ...more] = encodePartials(partials, groups);
      expect(more).toEqual([]);
      decodePartials(message!, groups).forEach((p, i) => expectSame(groups, p, partials[i]!));
      for (const p of partials) expectSame(groups, decodePartial(p.key, encodePartial(p, groups), groups), p);
    }
  });

  it('splits a batch past the byte cap, in order, each message exceeding it by at most one partial', () => {
    const groups = allGroups();
    const random = seededRandom(7);
    const partials = Array.from({ length: 300 }, () => randomPartial(groups, random));
    const largest = Math.max(...partials.map((p) => encodePartials([p], groups)[0]!.length));
    const cap = 4096;
    const messages = encodePartials(partials, groups, { maxBytes: cap });
    expect(messages.length).toBeGreaterThan(3);
    for (const m of messages) expect(m.length).toBeLessThan(cap + largest);
    const decoded = messages.flatMap((m) => decodePartials(m, groups));
    expect(decoded.length).toBe(partials.length);
    decoded.forEach((p, i) => expectSame(groups, p, partials[i]!));
    expect(encodePartials([], groups)).toEqual([]);
  });

  it('still reads a partial of the previous wire: a msgpack array per message, keyed by its series', () => {
    const groups = planMetrics(EVERY_KIND);
    const pre = new PreAggregator(groups, WINDOWINGS.tumbling!);
    for (const [tenant, t, record] of everyKindInput()) pre.add(tenant, t, record);
    for (const p of pre.drain()) {
      const aggregators = groups[p.group]!.aggregators;
      // What the previous release's encodePartial wrote.
      const legacy = packr.pack([p.group, p.tenant, p.labelValues.map((v) => v ?? null), p.start, p.end, p.accs.map((acc, m) => aggregators[m]!.encode(acc)), p.touched]);
      const [decoded, ...rest] = decodePartialsMessage(p.key, legacy, groups);
      expect(rest).toEqual([]);
      expectSame(groups, decoded!, p);
    }
  });

  it('still reads a version-1 batch, whose bytes-encoded accumulators (sketches, HLL, drift windows) came wrapped in msgpack', () => {
    const groups = planMetrics(EVERY_KIND);
    const pre = new PreAggregator(groups, WINDOWINGS.tumbling!);
    for (const [tenant, t, record] of everyKindInput()) pre.add(tenant, t, record);
    const partials = pre.drain();
    // What the previous release's encodePartials wrote: tags 0 none, 1 numbers, 2 null, 3 msgpack.
    const w = new WireWriter();
    w.byte(PARTIALS_WIRE_V1);
    let wrapped = 0;
    for (const p of partials) {
      w.varint(p.group);
      w.string(p.key);
      w.string(p.tenant);
      w.varint(p.labelValues.length);
      for (const v of p.labelValues) w.string(v);
      w.number(p.start);
      w.number(p.end);
      w.varint(p.touched >>> 0);
      w.varint(p.accs.length);
      p.accs.forEach((acc, m) => {
        const aggregator = groups[p.group]!.aggregators[m]!;
        if (acc === undefined) return w.byte(0);
        if (aggregator.plainNumbers && acc instanceof Float64Array) {
          w.byte(1);
          w.varint(acc.length);
          for (const x of acc) w.number(x);
          return;
        }
        const wire = aggregator.encode(acc);
        if (wire === null) return w.byte(2);
        if (wire instanceof Uint8Array) wrapped++;
        w.byte(3);
        w.bytes(packr.pack(wire));
      });
    }
    expect(wrapped).toBeGreaterThan(0);
    const previous = w.take();
    const decoded = decodePartials(previous, groups);
    expect(decoded.length).toBe(partials.length);
    decoded.forEach((p, i) => expectSame(groups, p, partials[i]!));
    // `repartition.partials_wire: 1` writes exactly what the previous release wrote, for a rolling upgrade.
    expect(Buffer.concat(encodePartials(partials, groups, { version: 1, maxBytes: Number.MAX_SAFE_INTEGER }))).toEqual(previous);
    // A version-1 message never holds version 2's raw-bytes accumulator: one that does is refused.
    const [v2] = encodePartials(partials, groups, { maxBytes: Number.MAX_SAFE_INTEGER });
    expect(v2![0]).toBe(0x02);
    expect(v2!.length).toBeLessThan(previous.length);
    expect(() => decodePartials(Buffer.concat([Buffer.from([PARTIALS_WIRE_V1]), v2!.subarray(1)]), groups)).toThrow(/version-2 accumulator/);
  });

  it('refuses a cut-short or foreign message with a WireFormatError, never a partial of garbage', () => {
    const groups = allGroups();
    const random = seededRandom(11);
    const [message] = encodePartials(Array.from({ length: 5 }, () => randomPartial(groups, random)), groups);
    for (const cut of [2, 7, Math.floor(message!.length / 2), message!.length - 1]) {
      expect(() => decodePartials(message!.subarray(0, cut), groups)).toThrow(WireFormatError);
    }
    expect(() => decodePartials(Buffer.from([0x03, 0x00]), groups)).toThrow(/unknown version/);
  });
});

describe('watermark markers', () => {
  it('round-trip, and a marker of the wrong shape is refused, never a NaN or string watermark', () => {
    const packr = new Packr({ useRecords: false });
    for (const marker of [{ source: 'logs-0', watermark: 1_790_000_000_000, idle: false }, { source: 'logs-1', watermark: Number.NEGATIVE_INFINITY, idle: true }]) {
      expect(decodeMarker(encodeMarker(marker))).toEqual(marker);
    }
    for (const bad of [['logs-0', '1790000000000', false], ['logs-0', Number.NaN, false], ['logs-0', 1, 'no'], [7, 1, false], ['logs-0', 1], { source: 'logs-0' }, 42]) {
      expect(() => decodeMarker(packr.pack(bad)), JSON.stringify(bad)).toThrow(WireFormatError);
    }
  });
});
