/**
 * Request encoders, one per protocol: batch entries [lo, hi) in, protobuf bytes out
 * (uncompressed; the delivery compresses). Each sender owns its encoders, and with them their
 * scratch buffers and grouping tables; its encoders share one series order (ranks kept on the
 * series refs: two orders would take the refs from each other).
 */
import type { Batch } from './batch.ts';
import { ClassicHistograms } from './classic-histograms.ts';
import { SeriesGrouping } from './series-grouping.ts';
import { SeriesOrder } from './series-order.ts';
import { WriteRequestWriter } from './wire.ts';
import { RequestV2Writer } from './wire-v2.ts';

export type Protocol = 'v1' | 'v2';

export interface RequestEncoder {
  readonly protocol: Protocol;
  /** The request bytes, valid until the next encode(). */
  encode(batch: Batch, lo: number, hi: number): Uint8Array;
}

/**
 * Remote-write 1.0: a prometheus.WriteRequest; descriptors and start timestamps are not sent, and
 * native histograms (queued before an `auto` tenant fell back) go as classic series.
 */
export class V1Encoder implements RequestEncoder {
  readonly protocol = 'v1';
  private readonly grouping: SeriesGrouping;
  private readonly writer = new WriteRequestWriter();
  private readonly classic = new ClassicHistograms();

  constructor(batchCapacity: number, order = new SeriesOrder()) {
    this.grouping = new SeriesGrouping(batchCapacity, order);
  }

  encode(batch: Batch, lo: number, hi: number): Uint8Array {
    const grouping = this.grouping;
    grouping.group(batch, lo, hi);
    const writer = this.writer;
    writer.reset();
    const indices = grouping.indices;
    for (let g = 0; g < grouping.size; g++) {
      const from = grouping.from(g);
      const to = grouping.to(g);
      const series = grouping.series(g);
      if (batch.histograms[indices[from]!] === undefined) {
        writer.addEncodedSeries(series.labelBytes, batch.values, batch.timestamps, indices, from, to);
        continue;
      }
      for (let k = from; k < to; k++) {
        const i = indices[k]!;
        const histogram = batch.histograms[i];
        if (histogram !== undefined) this.classic.write(writer, series, batch, i, histogram);
        else writer.addEncodedSeries(series.labelBytes, batch.values, batch.timestamps, indices, k, k + 1);
      }
    }
    grouping.release();
    return writer.finish();
  }
}

/** Remote-write 2.0: an io.prometheus.write.v2.Request with interned strings, metadata, start timestamps and native histograms. */
export class V2Encoder implements RequestEncoder {
  readonly protocol = 'v2';
  private readonly grouping: SeriesGrouping;
  private readonly writer = new RequestV2Writer();

  constructor(batchCapacity: number, order = new SeriesOrder()) {
    this.grouping = new SeriesGrouping(batchCapacity, order);
  }

  encode(batch: Batch, lo: number, hi: number): Uint8Array {
    const grouping = this.grouping;
    grouping.group(batch, lo, hi);
    const writer = this.writer;
    writer.reset();
    const indices = grouping.indices;
    for (let g = 0; g < grouping.size; g++) {
      const from = grouping.from(g);
      // A series has one descriptor; its first point's stands for all.
      const metric = batch.metrics[indices[from]!];
      writer.addSeries(grouping.series(g).labels, metric, batch.values, batch.timestamps, batch.starts, indices, from, grouping.to(g), batch.histograms);
    }
    grouping.release();
    return writer.finish();
  }
}

export function createEncoder(protocol: Protocol, batchCapacity: number, order: SeriesOrder): RequestEncoder {
  return protocol === 'v2' ? new V2Encoder(batchCapacity, order) : new V1Encoder(batchCapacity, order);
}
