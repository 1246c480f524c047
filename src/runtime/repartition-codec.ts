import murmurhash from 'murmurhash';
import { Packr } from 'msgpackr';
import { decodePartials, encodePartials } from '../codecs/partials/partials-wire.ts';
import { WireFormatError } from '../codecs/partials/wire-bytes.ts';
import type { PartialAggregate } from '../operators/windowed-metrics/partial.ts';
import type { SeriesGroupPlan } from '../operators/windowed-metrics/plan.ts';
import { packPlain } from './state-pack.ts';

/**
 * The internal topic `sluice.<pipeline>.partials`: batches of partial aggregates (the binary
 * wire of codecs/partials, key PARTIALS_KEY), and watermark markers (msgpack) that stage 1 sends
 * to every partition. Also the msgpack of stage 2's checkpoints.
 */
const packr = new Packr({ useRecords: false });

export const MARKER_KEY = 'wm';

export interface WatermarkMarker {
  /** Source partition, `topic/partition`. */
  readonly source: string;
  readonly watermark: number;
  readonly idle: boolean;
}

/** The internal topic's name for a pipeline. */
export function partialsTopic(pipeline: string): string {
  return `sluice.${pipeline}.partials`;
}

/** The stage-2 partition that owns a series: a stable hash of its key. */
export function partitionOfSeries(key: string, partitions: number): number {
  return (murmurhash.v3(key, 0x51ce) >>> 0) % partitions;
}

/** Keys a SeriesPartitions remembers; beyond, it forgets them all and starts over (a label flood). */
export const MAX_REMEMBERED_PARTITIONS = 65_536;

/**
 * partitionOfSeries with the answers for recent keys kept: stage 1 sends a partial of the same
 * series every flush, and hashing its key (UTF-8 encoding included) cost 1.4 µs a partial, a
 * lookup of the interned key string a few dozen ns.
 */
export class SeriesPartitions {
  private readonly known = new Map<string, number>();

  constructor(private readonly partitions: number) {}

  of(key: string): number {
    let partition = this.known.get(key);
    if (partition === undefined) {
      if (this.known.size >= MAX_REMEMBERED_PARTITIONS) this.known.clear();
      this.known.set(key, (partition = partitionOfSeries(key, this.partitions)));
    }
    return partition;
  }
}

/** The Kafka key of a message holding a batch of partials (partials-wire.ts); markers have MARKER_KEY. */
export const PARTIALS_KEY = 'pb';

/**
 * The first byte of a partial in the previous wire, one msgpack array of 7 per message keyed by
 * its series: never the batch wire's version byte, so a topic written by an older Sluice replays.
 */
const LEGACY_PARTIAL = 0x97;

/** The partials of one message of the partials topic (not a marker), in order; `key` is its Kafka key. */
export function decodePartialsMessage(key: string, value: Buffer, groups: readonly SeriesGroupPlan[]): PartialAggregate[] {
  return value[0] === LEGACY_PARTIAL ? [decodeLegacyPartial(key, value, groups)] : decodePartials(value, groups);
}

/** One partial as a message value of the partials wire (stage 1 batches them: encodePartials). */
export function encodePartial(partial: PartialAggregate, groups: readonly SeriesGroupPlan[]): Buffer {
  return encodePartials([partial], groups)[0]!;
}

/** The one partial of a message value, in either wire (`key` names the series of the previous one). */
export function decodePartial(key: string, value: Buffer, groups: readonly SeriesGroupPlan[]): PartialAggregate {
  const partials = decodePartialsMessage(key, value, groups);
  if (partials.length !== 1) throw new Error(`expected one partial in the message, found ${partials.length}`);
  return partials[0]!;
}

/** A partial in the previous wire: a msgpack array per message, keyed by its series. */
function decodeLegacyPartial(key: string, value: Buffer, groups: readonly SeriesGroupPlan[]): PartialAggregate {
  const [group, tenant, labelValues, start, end, accs, touched] = packr.unpack(value) as [number, string, (string | null)[], number, number, unknown[], number];
  const aggregators = groups[group]!.aggregators;
  return {
    group,
    key,
    tenant,
    labelValues: labelValues.map((v) => v ?? undefined),
    start,
    end,
    // A partial written before a reload appended metrics to its group has no accumulator for them yet.
    accs: aggregators.map((aggregator, m) => (m < accs.length ? aggregator.decode(accs[m]) : aggregator.create())),
    touched,
  };
}

export function encodeMarker(marker: WatermarkMarker): Buffer {
  return packr.pack([marker.source, marker.watermark, marker.idle]);
}

/**
 * A watermark marker, checked field by field: a marker of the wrong shape would otherwise set a
 * NaN or string watermark, and no window of the partition would ever fire again, silently.
 */
export function decodeMarker(value: Buffer): WatermarkMarker {
  const marker: unknown = packr.unpack(value);
  if (!Array.isArray(marker) || marker.length !== 3) throw new WireFormatError('watermark marker is not a [source, watermark, idle] triple');
  const [source, watermark, idle] = marker as unknown[];
  if (typeof source !== 'string' || typeof watermark !== 'number' || Number.isNaN(watermark) || typeof idle !== 'boolean') {
    throw new WireFormatError('watermark marker with a field of the wrong type');
  }
  return { source, watermark, idle };
}

/**
 * msgpackr packs into one buffer shared by every pack and returns views of it; the buffer grows
 * to the largest value packed and stays, and each later result keeps it alive. Past this size,
 * the next packs get a fresh small buffer: a large checkpoint head (every open pane of a label
 * flood) is then freed once its write is done, instead of being held for good.
 */
export const PACK_BUFFER_KEPT_BYTES = 1024 * 1024;
const PACK_BUFFER_BYTES = 64 * 1024;

export function packState(value: unknown): Buffer {
  // Series entries (arrays of numbers, strings and bytes) without msgpackr's walk: same bytes, less CPU.
  const plain = packPlain(value);
  if (plain !== undefined) return plain;
  const packed = packr.pack(value);
  if (packed.buffer.byteLength > PACK_BUFFER_KEPT_BYTES) packr.useBuffer(Buffer.allocUnsafeSlow(PACK_BUFFER_BYTES));
  return packed;
}

export function unpackState<T>(bytes: Buffer): T {
  return packr.unpack(bytes) as T;
}
