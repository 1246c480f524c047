import type { Logger } from 'pino';
import { WindowMerger, type MergerHead, type MergerSnapshot } from '../operators/windowed-metrics/window-merger.ts';
import type { Consumer, SourceBatch, TopicPartition } from '../sources/kafka/client.ts';
import type { CheckpointDelta, StoredCheckpoint } from '../state/checkpoint-store.ts';
import { TAPPED } from '../telemetry/tap/hub.ts';
import { tapPoints } from '../telemetry/tap/offer.ts';
import { Outbox, type OutboxSnapshot } from './outbox.ts';
import { anomalyEventsTopic, anomalyEventTopics, EventOutbox, type EventOutboxSnapshot } from '../sinks/anomaly-events/event-outbox.ts';
import type { PartialAggregate } from '../operators/windowed-metrics/partial.ts';
import { decodeMarker, decodePartialsMessage, MARKER_KEY, packState, unpackState, type WatermarkMarker } from './repartition-codec.ts';
import type { PartitionTask } from './partition-host.ts';
import { Serial } from './serial.ts';
import { CATCH_UP, CatchUpPacer } from './catch-up.ts';
import { stateSeriesShare } from './series-share.ts';
import type { Stage2Deps } from './stage2.ts';
import { UnreadablePartials } from './unreadable-partials.ts';

/**
 * One stage-2 task: a partition of the partials topic, its window merger, outbox and
 * checkpoint. Stage2 (stage2.ts) is the group member that creates and ticks these.
 */

/** How often a task retries loading its checkpoint while the state backend is down. */
const RESTORE_RETRY_MS = 500;
/**
 * The head of a checkpoint, rewritten every time: the input position, the upstream watermarks,
 * the merger's head (open panes and sessions) and pending anomaly events. The series, retained
 * totals and unacknowledged writes are the checkpoint's entries, each written when it changes.
 */
interface CheckpointHead {
  v: 2;
  offset: number;
  upstream: [string, number, boolean][];
  merger: MergerHead;
  events?: EventOutboxSnapshot;
}

/** The previous format: the whole state in one blob, rewritten at every checkpoint (still restored). */
interface BlobCheckpoint {
  v: 1;
  offset: number;
  upstream: [string, number, boolean][];
  merger: MergerSnapshot;
  outbox: OutboxSnapshot;
  /** Anomaly events not yet written to Kafka (absent in older checkpoints and pipelines without anomaly metrics). */
  events?: EventOutboxSnapshot;
}

export class PartialsTask implements PartitionTask {
  readonly serial = new Serial();
  paused = false;
  readonly partition: TopicPartition;
  private readonly merger: WindowMerger;
  private readonly outbox: Outbox;
  private readonly pacer: CatchUpPacer;
  private readonly events: EventOutbox | undefined;
  private readonly upstream = new Map<string, { watermark: number; idle: boolean }>();
  private epoch = 0;
  private ready = false;
  private closed = false;
  /** Ends the restore retries when the task closes. */
  private readonly closing = new AbortController();
  /** Next offset to process; records below it are in the state already. */
  private nextOffset = 0;
  /** Partials messages this task cannot read: it waits on them, or skips those the operator listed. */
  private readonly unreadable: UnreadablePartials;
  /** The merger is firing a watermark jump's windows one per turn (see `catchUp`); the partition is paused meanwhile. */
  private catchingUp = false;
  private checkpointedOffset = -1;
  private checkpointedOutbox = -1;
  private checkpointedEvents: number | undefined = -1;
  /**
   * The next checkpoint writes every entry and replaces what the store holds: at the start, after
   * restoring the previous format, and after a failed write (its changes may or may not be there).
   */
  private writeAll = true;

  constructor(
    readonly index: number,
    private readonly deps: Stage2Deps,
    private readonly log: Logger,
    private readonly consumer: () => Consumer,
  ) {
    this.partition = { topic: deps.partialsTopic, partition: index };
    this.outbox = new Outbox(deps.sink, () => deps.clock.now());
    this.pacer = new CatchUpPacer(this.outbox, deps.catchUp ?? CATCH_UP, deps.clock, () => deps.config.state.max_outbox_samples);
    const { config, metrics } = deps;
    const pipeline = config.name;
    this.events = anomalyEventTopics(config).length === 0
      ? undefined
      : new EventOutbox(() => deps.kafka.transactionalProducer(`sluice.${pipeline}.anomalies.${index}`), anomalyEventsTopic(pipeline), (n) => metrics.anomalyEvents.inc({ pipeline }, n));
    this.merger = new WindowMerger(
      deps.groups,
      deps.windowing,
      {
        allowedLatenessMs: config.window.allowed_lateness,
        expireAfterMs: config.series.expire_after,
        seriesBudget: deps.seriesShare ?? stateSeriesShare(config),
        partition: index,
        onFolded: (tenant) => metrics.stateSeriesFolded.inc({ pipeline, tenant }),
        onTotalsDropped: (tenant) => metrics.retainedTotalsDropped.inc({ pipeline, tenant }),
        ...(this.events ? { onEvent: this.events.add.bind(this.events) } : {}),
      },
      { emit: (tenant, points) => { if (TAPPED.samples) tapPoints(pipeline, tenant, points); this.outbox.add(tenant, points); } },
    );
    this.unreadable = new UnreadablePartials({
      config,
      partition: index,
      metrics,
      log,
      clock: deps.clock,
      serial: this.serial,
      closing: this.closing.signal,
      pause: () => this.pause(),
      resumeIfAllowed: () => this.resumeIfOutboxAllows(),
    });
    void this.serial.run(() => this.restore()).catch((error: unknown) => this.log.error({ err: error, partition: index }, 'restore failed'));
  }

  get seriesCount(): number {
    return this.merger.seriesCount;
  }

  get watermark(): number {
    return this.merger.currentWatermark;
  }

  /** The next offset to process, once the checkpoint is loaded. */
  get position(): number | undefined {
    return this.ready ? this.nextOffset : undefined;
  }

  /** True once the partition's checkpoint is loaded. */
  get restored(): boolean {
    return this.ready;
  }

  /** Claims the partition and loads its checkpoint, retrying while the state backend is down. */
  private async restore(): Promise<void> {
    this.pause();
    for (let attempt = 0; !this.closed && !this.closing.signal.aborted; attempt++) {
      try {
        const { epoch, checkpoint } = await this.deps.store.claim(this.index);
        this.epoch = epoch;
        if (checkpoint) this.load(checkpoint);
        this.ready = true;
        this.consumer().seek({ ...this.partition, offset: this.nextOffset });
        // A checkpoint taken during a catch-up: its remaining windows fire before any later record.
        if (this.advanceWatermark()) this.resume();
        return;
      } catch (error) {
        if (attempt % 10 === 0) this.log.warn({ err: error, partition: this.index }, 'cannot load checkpoint; partition paused');
        await this.deps.clock.sleep(RESTORE_RETRY_MS, this.closing.signal);
      }
    }
  }

  private load(checkpoint: StoredCheckpoint): void {
    let head: { offset: number; upstream: [string, number, boolean][]; events?: EventOutboxSnapshot };
    if (checkpoint.format === 'blob') {
      const state = (head = unpackState<BlobCheckpoint>(checkpoint.blob));
      this.merger.restore(state.merger);
      this.outbox.restore(state.outbox);
      this.writeAll = true; // the first checkpoint replaces the blob
    } else {
      const state = (head = unpackState<CheckpointHead>(checkpoint.head));
      if (state.v !== 2) throw new Error(`checkpoint head of unknown version ${String(state.v)}`);
      const mergerEntries: [string, unknown][] = [];
      const outboxEntries: [string, Buffer][] = [];
      for (const [field, value] of checkpoint.entries) {
        if (Outbox.owns(field)) outboxEntries.push([field, value]);
        else mergerEntries.push([field, unpackState(value)]);
      }
      this.merger.restoreIncremental(state.merger, mergerEntries);
      this.outbox.restoreEntries(outboxEntries);
      this.writeAll = false;
    }
    this.nextOffset = head.offset;
    for (const [source, watermark, idle] of head.upstream) this.upstream.set(source, { watermark, idle });
    this.events?.restore(head.events);
    this.checkpointedOffset = head.offset;
  }

  private process(batch: SourceBatch): void {
    if (this.closed) return;
    if (!this.ready || this.paused) {
      // Not ours to process yet: make sure this data is fetched again after resuming.
      this.consumer().seek({ ...this.partition, offset: this.nextOffset });
      return;
    }
    const { groups, metrics, config } = this.deps;
    for (const record of batch.records) {
      if (record.offset < this.nextOffset) continue;
      if (record.value === null) {
        this.nextOffset = record.offset + 1;
        continue;
      }
      // A message is decoded whole before the offset moves past it and before any of it is
      // applied: it counts wholly or not at all, and one this stage 2 cannot read leaves the
      // offset on it and the partition waits, unless the operator listed it to be skipped
      // (unreadable-partials.ts). Either way a replay from a checkpoint decides the same.
      const key = record.key?.toString() ?? '';
      let decoded: WatermarkMarker | PartialAggregate[];
      try {
        decoded = key === MARKER_KEY ? decodeMarker(record.value) : decodePartialsMessage(key, record.value, groups);
      } catch (error) {
        // Decoding changes nothing: whatever it threw, nothing was applied.
        if (this.unreadable.decide(record.offset, error) === 'wait') return;
        this.nextOffset = record.offset + 1;
        continue;
      }
      this.unreadable.readable();
      this.nextOffset = record.offset + 1;
      if (!Array.isArray(decoded)) {
        const { source, watermark, idle } = decoded;
        this.upstream.set(source, { watermark, idle });
        // Fire at this record, not at the end of the batch: batches split differently on a
        // replay, and what fires (and expires, freeing series budget) before a later partial
        // is admitted must not depend on that. The rest of the batch is fetched again once a
        // catch-up is done (`resume` seeks to the next offset).
        if (!this.advanceWatermark()) return;
        continue;
      }
      for (const partial of decoded) {
        if (this.merger.addPartial(partial) === 'late') {
          metrics.latePartials.inc({ pipeline: config.name });
          this.log.error({ partition: this.index }, 'partial arrived after its window fired');
        }
      }
    }
    if (this.outbox.size > config.state.max_outbox_samples) this.pause();
  }

  /**
   * Moves the merger's watermark to the combined one (catch-up.ts): true when it is there.
   * Otherwise the partition pauses and `catchUp` fires the rest, a window per turn once
   * acknowledgements make room.
   */
  private advanceWatermark(): boolean {
    this.catchingUp = !this.pacer.step(this.merger, this.combinedWatermark());
    if (!this.catchingUp) return true;
    this.pause();
    // A throw while firing leaves the merger part-way: the partition stays paused (its stall fails
    // /readyz) until a restart restores it from its checkpoint, as a failed restore does.
    this.catchUp().catch((error: unknown) => this.log.error({ err: error, partition: this.index }, 'catch-up failed: the partition stays paused'));
    return false;
  }

  /** The next window of a catch-up, once the outbox has room (or waited long enough), then the next... */
  private async catchUp(): Promise<void> {
    await this.pacer.room();
    await this.serial.run(async () => {
      if (this.closed || !this.catchingUp) return;
      if (this.advanceWatermark()) this.maybeResume();
    });
  }

  /** Minimum over source partitions that are not idle; when all are idle, over all of them. */
  private combinedWatermark(): number {
    let active = Number.POSITIVE_INFINITY;
    let all = Number.POSITIVE_INFINITY;
    for (const source of this.deps.sources) {
      const state = this.upstream.get(source);
      if (!state) return Number.NEGATIVE_INFINITY; // never heard of: it holds the watermark
      all = Math.min(all, state.watermark);
      if (!state.idle) active = Math.min(active, state.watermark);
    }
    return active !== Number.POSITIVE_INFINITY ? active : all;
  }

  async checkpoint(): Promise<void> {
    if (this.closed || !this.ready) return;
    if (this.nextOffset === this.checkpointedOffset && this.outbox.size === this.checkpointedOutbox && this.events?.size === this.checkpointedEvents) {
      this.maybeResume();
      this.sendEvents();
      return;
    }
    const startedAt = performance.now();
    const eventCount = this.events?.size;
    const offset = this.nextOffset;
    const outboxSize = this.outbox.size;
    const replace = this.writeAll;
    const head: CheckpointHead = {
      v: 2,
      offset,
      upstream: [...this.upstream].map(([source, u]) => [source, u.watermark, u.idle]),
      merger: this.merger.head(),
      ...(this.events ? { events: this.events.snapshot() } : {}),
    };
    const merger = this.merger.changes(replace);
    const outbox = this.outbox.changes(replace);
    const put = new Map<string, Buffer>(outbox.put);
    for (const [field, wire] of merger.put) put.set(field, packState(wire));
    const delta = { head: packState(head), put, remove: [...merger.remove, ...outbox.remove], replace };
    const { metrics, config } = this.deps;
    try {
      const result = await this.deps.store.save(this.index, this.epoch, delta);
      metrics.checkpoints.inc({ pipeline: config.name, result });
      metrics.checkpointDuration.observe({ pipeline: config.name }, (performance.now() - startedAt) / 1000);
      metrics.checkpointBytes.inc({ pipeline: config.name }, deltaBytes(delta));
      if (result === 'fenced') {
        this.log.warn({ partition: this.index }, 'checkpoint fenced: the partition moved to another instance');
        this.shut();
        return;
      }
      this.writeAll = false;
      this.checkpointedOffset = offset;
      this.checkpointedOutbox = outboxSize;
      this.checkpointedEvents = eventCount;
      this.maybeResume();
      this.sendEvents();
    } catch (error) {
      this.writeAll = true;
      metrics.checkpoints.inc({ pipeline: config.name, result: 'failed' });
      if (!this.paused) this.log.warn({ err: error, partition: this.index }, 'checkpoint failed; pausing the partition until the state backend is back');
      this.pause();
    }
  }

  /** Writes the checkpointed anomaly events (a failure keeps them for the next checkpoint's attempt). */
  private sendEvents(): void {
    this.events?.send().catch((error: unknown) => {
      if (!this.closed) this.log.warn({ err: error, partition: this.partition }, 'anomaly events not written yet; retrying after the next checkpoint');
    });
  }

  /** Resumes a paused partition unless it waits on an unreadable message (whose own retry resumes it). */
  private maybeResume(): void {
    if (!this.unreadable.waiting) this.resumeIfOutboxAllows();
  }

  private resumeIfOutboxAllows(): void {
    if (this.paused && !this.catchingUp && this.outbox.size <= this.deps.config.state.max_outbox_samples) this.resume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.consumer().pause([this.partition]);
  }

  private resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.consumer().seek({ ...this.partition, offset: this.nextOffset });
    this.consumer().resume([this.partition]);
  }

  async receive(batch: SourceBatch): Promise<void> {
    await this.serial.run(async () => {
      if (!batch.superseded()) this.process(batch); // else fetched before the task seeked
    });
  }

  finish(): Promise<void> {
    return this.serial.run(() => this.checkpoint());
  }

  /** A task still loading its checkpoint (state backend down) has nothing to save: it stops retrying. */
  abandonStart(): void {
    if (this.ready) return;
    this.closing.abort();
    this.shut();
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.serial.run(async () => this.shut());
  }

  private shut(): void {
    this.closed = true;
    this.outbox.close();
    void this.events?.close();
  }
}

/** What a checkpoint sends: head, entry names and values, names removed. */
function deltaBytes(delta: CheckpointDelta): number {
  let bytes = delta.head.length;
  for (const [field, value] of delta.put) bytes += field.length + value.length;
  for (const field of delta.remove) bytes += field.length;
  return bytes;
}
