import type { MetricPoint, MetricSink } from '../core/metric-model.ts';
import { seriesPerPoint } from '../core/series-count.ts';
import { packState, unpackState } from './repartition-codec.ts';
import { decodePoints, encodePoints, fromLegacySamples, type LegacySampleWire, type PointsWire } from './outbox-wire.ts';
import { TenantAcks } from './tenant-acks.ts';

/**
 * The points a stage-2 partition has emitted that no receiver has acknowledged yet. They are
 * part of the partition's checkpoint (Flink's rule for async sinks), so after a crash the new
 * owner sends them again; the sink settles each write once it is acknowledged or given up on.
 * Its size is counted in samples (series values, every histogram bucket one), as the
 * `max_outbox_samples` bound and a receiver count them.
 *
 * Handing points to the sink costs CPU per sample (labels resolved, series counted), and a window
 * of a flooded tenant holds hundreds of thousands: in one go that held the event loop for seconds
 * and every other tenant's window with it. So a large emission is split into entries of at most
 * `CHUNK_POINTS` points, and each tenant hands at most `TURN_SAMPLES` samples to the sink per turn
 * of the event loop; the rest waits for the next turns, in order, so other tenants' writes (and
 * other partitions' work) interleave. Waiting entries are in the checkpoint like the others.
 */
export class Outbox {
  private readonly entries = new Map<number, { tenant: string; points: readonly MetricPoint[]; samples: number; packed?: Buffer }>();
  private nextId = 0;
  private pendingSamples = 0;
  private closed = false;
  /** For incremental checkpoints: writes added, and written ones acknowledged, since the last `changes()`. */
  private added = new Set<number>();
  private acked: number[] = [];
  /** Per tenant: samples handed to the sink in this turn, and entries waiting for a later turn (in order). */
  private readonly handed = new Map<string, number>();
  private readonly waiting = new Map<string, number[]>();
  private turnScheduled = false;
  /** Who waits for the unacknowledged samples (as it counts them) to fall to a bound (`drainedTo`): one waiter, a catch-up. */
  private drainWaiter: { samples: number; count: () => number; resolve: () => void } | undefined;
  private readonly acks: TenantAcks;

  /** `now`: the clock that tells how long a tenant has gone without an acknowledgement (`flowingSize`). */
  constructor(
    private readonly sink: MetricSink,
    now: () => number = Date.now,
  ) {
    this.acks = new TenantAcks(now);
  }

  get size(): number {
    return this.pendingSamples;
  }

  /**
   * Unacknowledged samples of the tenants that had an acknowledgement less than `stalledAfterMs`
   * ago (or started waiting then); all of them when no receiver has answered in that time, since
   * pacing on every sample is then what bounds memory (TenantAcks.flowing).
   */
  flowingSize(stalledAfterMs: number): number {
    return this.acks.flowing(stalledAfterMs) ?? this.pendingSamples;
  }

  add(tenant: string, points: readonly MetricPoint[]): void {
    if (this.closed || points.length === 0) return;
    for (let from = 0; from < points.length; from += CHUNK_POINTS) {
      const id = this.nextId++;
      this.added.add(id);
      this.track(id, tenant, points.length <= CHUNK_POINTS ? points : points.slice(from, from + CHUNK_POINTS), undefined);
    }
  }

  private track(id: number, tenant: string, points: readonly MetricPoint[], packed: Buffer | undefined): void {
    let samples = 0;
    for (const point of points) samples += seriesPerPoint(point.metric, point.value);
    this.entries.set(id, { tenant, points, samples, ...(packed ? { packed } : {}) });
    this.pendingSamples += samples;
    this.acks.added(tenant, samples);
    const queue = this.waiting.get(tenant);
    const handed = this.handed.get(tenant) ?? 0;
    if (queue === undefined && handed < TURN_SAMPLES) {
      this.handed.set(tenant, handed + samples);
      this.handOver(id);
    } else if (queue) queue.push(id);
    else this.waiting.set(tenant, [id]);
    this.scheduleTurn();
  }

  private handOver(id: number): void {
    const entry = this.entries.get(id)!;
    this.sink.write(entry.tenant, entry.points, () => {
      if (!this.entries.delete(id)) return;
      this.pendingSamples -= entry.samples;
      this.acks.acked(entry.tenant, entry.samples);
      // Acknowledged before any checkpoint wrote it: there is nothing to remove.
      if (!this.added.delete(id)) this.acked.push(id);
      if (this.drainWaiter !== undefined && this.drainWaiter.count() <= this.drainWaiter.samples) this.releaseDrainWaiter();
    });
  }

  /**
   * Resolves once at most `samples` are unacknowledged as `count` counts them (all of them by
   * default), checked at each acknowledgement (at once if so now, or when the outbox closes). A
   * later call replaces an earlier one's wait, which then resolves.
   */
  drainedTo(samples: number, count: () => number = () => this.pendingSamples): Promise<void> {
    this.releaseDrainWaiter();
    if (this.closed || count() <= samples) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiter = { samples, count, resolve };
    });
  }

  private releaseDrainWaiter(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.resolve();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.nextTurn());
  }

  /**
   * A new turn: what the last turn handed over goes out now (a window fired: no more of it is
   * coming, so its partial batches need not wait for `max_delay`), then every tenant's allowance
   * again, spent first on the entries waiting, in order.
   */
  private nextTurn(): void {
    this.turnScheduled = false;
    if (this.sink.expedite) for (const tenant of this.handed.keys()) this.sink.expedite(tenant);
    this.handed.clear();
    if (this.closed) return;
    for (const [tenant, queue] of this.waiting) {
      let handed = 0;
      while (queue.length > 0 && handed < TURN_SAMPLES) {
        const id = queue.shift()!;
        handed += this.entries.get(id)!.samples;
        this.handOver(id);
      }
      this.handed.set(tenant, handed);
      if (queue.length === 0) this.waiting.delete(tenant);
    }
    if (this.handed.size > 0) this.scheduleTurn();
  }

  /**
   * For an incremental checkpoint: the writes added since the last call (every unacknowledged one
   * if `all`), as entries by name, and the names of written ones acknowledged since. An entry
   * never changes, so each is packed once and written once.
   */
  changes(all: boolean): { put: [string, Buffer][]; remove: string[] } {
    const put: [string, Buffer][] = [];
    for (const id of all ? this.entries.keys() : this.added) {
      const entry = this.entries.get(id)!;
      entry.packed ??= packState(encodePoints(entry.points));
      put.push([OUTBOX + id.toString(36), packState([entry.tenant, entry.packed])]);
    }
    const remove = all ? [] : this.acked.map((id) => OUTBOX + id.toString(36));
    this.added = new Set();
    this.acked = [];
    return { put, remove };
  }

  /** Re-sends the writes of an incremental checkpoint, in their original order, under their names. */
  restoreEntries(entries: Iterable<readonly [string, Buffer]>): void {
    const restored = [...entries].map(([field, value]) => ({ id: parseInt(field.slice(OUTBOX.length), 36), value })).sort((a, b) => a.id - b.id);
    for (const { id, value } of restored) {
      const [tenant, packed] = unpackState<[string, Uint8Array]>(value);
      const bytes = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
      this.track(id, tenant, decodePoints(unpackState<PointsWire>(bytes)), bytes);
      this.nextId = Math.max(this.nextId, id + 1);
    }
  }

  /** Does this incremental checkpoint entry belong to the outbox? */
  static owns(field: string): boolean {
    return field.startsWith(OUTBOX);
  }

  /** Stops tracking (the partition moved away); what is queued in the sink still goes out. */
  close(): void {
    // What waits for its turn goes to the sink now, as it would have without the turns.
    for (const queue of this.waiting.values()) for (const id of queue) this.handOver(id);
    this.waiting.clear();
    this.closed = true;
    this.entries.clear();
    this.pendingSamples = 0;
    this.acks.clear();
    this.releaseDrainWaiter();
  }

  snapshot(): OutboxSnapshot {
    const snapshot: OutboxSnapshot = [];
    for (const entry of this.entries.values()) {
      // An entry never changes: encode it once, however many checkpoints it waits through. Under a
      // label flood a slow receiver's backlog was re-encoded every second, and that took most of
      // the process' CPU (profiled: 57 of 105 busy seconds in this snapshot and msgpack, 15 in GC).
      entry.packed ??= packState(encodePoints(entry.points));
      snapshot.push([entry.tenant, entry.packed]);
    }
    return snapshot;
  }

  /** Re-sends a restored outbox, in its original order. */
  restore(snapshot: OutboxSnapshot): void {
    for (const [tenant, wire] of snapshot) {
      // Checkpoints written before entries were packed hold the sample list itself; packed ones
      // written before points hold samples too (an array), points are an object.
      const unpacked = Array.isArray(wire) ? wire : unpackState<LegacySampleWire[] | PointsWire>(Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength));
      this.add(tenant, Array.isArray(unpacked) ? fromLegacySamples(unpacked) : decodePoints(unpacked));
    }
  }
}

/** Most points in one outbox entry (one sink write): a large emission becomes several entries. */
const CHUNK_POINTS = 1_000;
/** Most samples one tenant hands to the sink per turn of the event loop (beyond, its writes wait a turn). */
const TURN_SAMPLES = 20_000;

/** Names of the outbox's entries in incremental checkpoints: this prefix and the write's id in base 36. */
const OUTBOX = 'o';

/** Per unacknowledged write: its tenant and its points, packed (or, in older checkpoints, samples as a list). */
export type OutboxSnapshot = [string, Uint8Array | LegacySampleWire[]][];
