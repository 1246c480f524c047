import { Packr } from 'msgpackr';
import type { Aggregator } from '../../operators/aggregations/aggregator.ts';
import { zeroedDoubles } from '../../operators/aggregations/double-slab.ts';
import type { PartialAggregate } from '../../operators/windowed-metrics/partial.ts';
import type { SeriesGroupPlan } from '../../operators/windowed-metrics/plan.ts';
import { WireFormatError, WireReader, WireWriter } from './wire-bytes.ts';

/**
 * The binary wire of partial aggregates, shared by stage 1 (which writes them to the partials
 * topic) and stage 2 (which reads them): one Kafka message holds a batch of partials, all bound
 * for one stage-2 partition. Layout (see wire-bytes.ts for varints, float64 and strings):
 *
 *   version byte (PARTIALS_WIRE_V2; V1 is still read), then until the end of the message, per partial:
 *     varint group, string key, string tenant,
 *     varint label count, a string (or undefined) per label value,
 *     number start, number end, varint touched (as uint32),
 *     varint accumulator count, per accumulator a tag byte and its payload:
 *       ACC_NONE     —                      (no accumulator)
 *       ACC_NUMBERS  varint n, n numbers    (a kind whose accumulator is plain numbers)
 *       ACC_NULL     —                      (`encode()` gave null: the kind carries nothing)
 *       ACC_MSGPACK  varint n, n bytes      (`encode()`'s value, msgpack: rollups, child counts, ...)
 *       ACC_BYTES    varint n, n bytes      (`encode()` gave bytes: sketches, HLL, drift; V2 only)
 *
 * V2 added ACC_BYTES: a kind whose `encode()` gives a Uint8Array (its own binary form) is carried
 * as it is, where V1 wrapped it in a msgpack bin through msgpackr's pack and unpack. That cost
 * ~1 µs per accumulator and partial each way, a drift window's and a quantiles sketch's alike.
 * Every such kind's `decode` copies the bytes (the wire's are a view of the whole message).
 *
 * Measured against the msgpack array per partial it replaces (a message each): 231 B and
 * 10.8–13.5 µs per partial on the gateway pipeline, with kafkajs' per-message cost on top.
 */
export const PARTIALS_WIRE_V1 = 0x01;
export const PARTIALS_WIRE_V2 = 0x02;
/** The partials wire versions a stage 1 can write (`repartition.partials_wire`). */
export type PartialsWireVersion = 1 | 2;

/**
 * A batch closes once it holds this many bytes (so it exceeds them by at most one partial): far
 * under the 1 MiB the partials topic takes per message (Kafka's default `max.message.bytes`).
 */
export const PARTIALS_BATCH_BYTES = 256 * 1024;

const ACC_NONE = 0;
const ACC_NUMBERS = 1;
const ACC_NULL = 2;
const ACC_MSGPACK = 3;
const ACC_BYTES = 4;

/** The opaque accumulators' form: the same msgpack settings as the one-partial-per-message wire before. */
const packr = new Packr({ useRecords: false });

/** One writer for every batch: encoding is synchronous, and its buffer grows once and stays. */
const writer = new WireWriter(PARTIALS_BATCH_BYTES + 64 * 1024);

/**
 * Partials as Kafka message values, in order, each value at most about `maxBytes`, in wire
 * `version` (1 while instances of a release that reads only version 1 may still run stage 2).
 */
export function encodePartials(
  partials: readonly PartialAggregate[],
  groups: readonly SeriesGroupPlan[],
  { version = 2, maxBytes = PARTIALS_BATCH_BYTES }: { version?: PartialsWireVersion; maxBytes?: number } = {},
): Buffer[] {
  const out: Buffer[] = [];
  const bytesAsIs = version === 2;
  writer.reset();
  try {
    for (const partial of partials) {
      if (writer.length === 0) writer.byte(bytesAsIs ? PARTIALS_WIRE_V2 : PARTIALS_WIRE_V1);
      writePartial(writer, partial, groups[partial.group]!.aggregators, bytesAsIs);
      if (writer.length >= maxBytes) out.push(writer.take());
    }
    if (writer.length > 0) out.push(writer.take());
  } finally {
    writer.reset();
  }
  return out;
}

/** The partials of one message written by encodePartials, in order. */
export function decodePartials(value: Buffer, groups: readonly SeriesGroupPlan[]): PartialAggregate[] {
  const reader = new WireReader(value);
  const version = reader.byte();
  if (version !== PARTIALS_WIRE_V2 && version !== PARTIALS_WIRE_V1) throw new WireFormatError(`partials message of unknown version ${version}`);
  const out: PartialAggregate[] = [];
  const bytesAsIs = version === PARTIALS_WIRE_V2;
  while (!reader.done) out.push(readPartial(reader, groups, bytesAsIs));
  return out;
}

/** `bytesAsIs`: version 2's ACC_BYTES for an `encode()` that gives bytes (version 1 wraps them in msgpack). */
function writePartial(w: WireWriter, partial: PartialAggregate, aggregators: readonly Aggregator[], bytesAsIs: boolean): void {
  w.varint(partial.group);
  w.string(partial.key);
  w.string(partial.tenant);
  const values = partial.labelValues;
  w.varint(values.length);
  for (let i = 0; i < values.length; i++) w.string(values[i]);
  w.number(partial.start);
  w.number(partial.end);
  w.varint(partial.touched >>> 0);
  const accs = partial.accs;
  w.varint(accs.length);
  for (let m = 0; m < accs.length; m++) writeAcc(w, aggregators[m]!, accs[m], bytesAsIs);
}

function writeAcc(w: WireWriter, aggregator: Aggregator, acc: unknown, bytesAsIs: boolean): void {
  if (acc === undefined) {
    w.byte(ACC_NONE);
    return;
  }
  if (aggregator.plainNumbers === true && acc instanceof Float64Array) {
    w.byte(ACC_NUMBERS);
    w.varint(acc.length);
    for (let i = 0; i < acc.length; i++) w.number(acc[i]!);
    return;
  }
  // Copied below at once (into the message, or by msgpack): a drift window's bytes may be scratch memory.
  const wire = aggregator.encodeOnce !== undefined ? aggregator.encodeOnce(acc) : aggregator.encode(acc);
  if (wire === null) {
    w.byte(ACC_NULL);
    return;
  }
  if (bytesAsIs && wire instanceof Uint8Array) {
    w.byte(ACC_BYTES);
    w.bytes(wire);
    return;
  }
  w.byte(ACC_MSGPACK);
  w.bytes(packr.pack(wire));
}

function readPartial(r: WireReader, groups: readonly SeriesGroupPlan[], bytesAsIs: boolean): PartialAggregate {
  const group = r.varint();
  const plan = groups[group];
  if (plan === undefined) throw new WireFormatError(`partial of unknown series group ${group}`);
  const key = r.string();
  const tenant = r.string();
  if (key === undefined || tenant === undefined) throw new WireFormatError('partial without a key or tenant');
  const labelCount = r.varint();
  const labelValues = new Array<string | undefined>(labelCount);
  for (let i = 0; i < labelCount; i++) labelValues[i] = r.string();
  const start = r.number();
  const end = r.number();
  const touched = r.varint() | 0;
  const aggregators = plan.aggregators;
  const count = r.varint();
  const accs = new Array<unknown>(aggregators.length);
  for (let m = 0; m < count; m++) {
    const acc = readAcc(r, aggregators[m], bytesAsIs);
    if (m < aggregators.length) accs[m] = acc;
  }
  // A partial written before a reload appended metrics to its group has no accumulator for them yet.
  for (let m = count; m < aggregators.length; m++) accs[m] = aggregators[m]!.create();
  return { group, key, tenant, labelValues, start, end, accs, touched };
}

/**
 * One accumulator; read past (undefined) when `aggregator` is absent (a metric a reload removed).
 * `bytesAsIs`: the message is version 2, the only one with ACC_BYTES.
 */
function readAcc(r: WireReader, aggregator: Aggregator | undefined, bytesAsIs: boolean): unknown {
  const tag = r.byte();
  switch (tag) {
    case ACC_NONE:
      return undefined;
    case ACC_NUMBERS: {
      const n = r.varint();
      r.need(n);
      // On a shared slab: a histogram's own `new Float64Array(17)` is off V8's heap and cost ~10× more.
      const acc = zeroedDoubles(n);
      for (let i = 0; i < n; i++) acc[i] = r.number();
      return acc;
    }
    case ACC_NULL:
      return aggregator?.decode(null);
    case ACC_MSGPACK: {
      const bytes = r.bytes();
      return aggregator?.decode(packr.unpack(bytes));
    }
    case ACC_BYTES: {
      if (!bytesAsIs) throw new WireFormatError('a version-1 partials message with a version-2 accumulator');
      const bytes = r.bytes();
      return aggregator?.decode(bytes);
    }
    default:
      throw new WireFormatError(`accumulator of unknown tag ${tag}`);
  }
}
