/**
 * Anomaly events on their way to Kafka, as one stage-2 partition emits them.
 *
 * Delivery, and why it is exactly-once for a consumer that dedupes by key: stage 2 is not a Kafka
 * transaction (its state lives in Redis), so an event cannot commit atomically with the state.
 * Instead, like the remote-write outbox, pending events are part of the partition's checkpoint,
 * and every event has a deterministic key, `tenant / series key / window end / metric`:
 *   - an event emitted before a checkpoint and not yet acknowledged is in that checkpoint, and is
 *     sent again by whoever restores it;
 *   - an event emitted after the last checkpoint is emitted again by the replay from the checkpoint's
 *     offset (the detector state is restored with it, so the replay gives the same score, value and
 *     range: the same bytes under the same key).
 * So every event reaches the topic at least once, and a repeat is byte-identical with the same key:
 * a consumer keeps the first of each key (or reads a compacted topic). Writes go through a
 * transactional producer per stage-2 partition (id `sluice.<pipeline>.anomalies.<partition>`), so
 * a zombie owner that lost the partition is fenced and cannot add late copies after the new owner
 * started, and read-committed consumers never see a batch that failed halfway.
 */
import type { ScoreEvent } from '../../operators/aggregations/series-state.ts';
import type { TransactionalProducer } from '../../sources/kafka/client.ts';

export interface EventMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
}

/** JSON value of an event; numbers as JSON numbers (a non-finite expected bound becomes null). */
export function eventMessage(event: ScoreEvent, defaultTopic: string): EventMessage {
  const labels: Record<string, string> = {};
  for (const label of event.labels) labels[label.name] = label.value;
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    topic: event.topic ?? defaultTopic,
    key: `${event.tenant}\u0000${event.seriesKey}\u0000${event.windowEndMs}\u0000${event.metric}`,
    value: JSON.stringify({
      metric: event.metric,
      tenant: event.tenant,
      labels,
      window_start: new Date(event.windowStartMs).toISOString(),
      window_end: new Date(event.windowEndMs).toISOString(),
      score: event.score,
      threshold: event.threshold,
      value: event.value,
      expected_lower: finite(event.expectedLower),
      expected_upper: finite(event.expectedUpper),
    }),
  };
}

/** Default topic of a pipeline's anomaly events. */
export function anomalyEventsTopic(pipeline: string): string {
  return `sluice.${pipeline}.anomalies`;
}

/** Every topic a pipeline's anomaly metrics write events to. */
export function anomalyEventTopics(config: { readonly name: string; readonly metrics: readonly { readonly type: string; readonly events_topic?: string }[] }): string[] {
  const topics = new Set<string>();
  for (const metric of config.metrics) if (metric.type === 'anomaly') topics.add(metric.events_topic ?? anomalyEventsTopic(config.name));
  return [...topics];
}

export type EventOutboxSnapshot = [string, string, string][];

/** At most this many events go in one transaction. */
const MAX_BATCH = 500;

/**
 * One stage-2 partition's unacknowledged events. `add` queues (in emission order); `send` writes
 * what is queued in one transaction and forgets it once committed; `snapshot` / `restore` carry
 * the queue through a checkpoint.
 */
export class EventOutbox {
  private pending: EventMessage[] = [];
  private producer: TransactionalProducer | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly openProducer: () => Promise<TransactionalProducer>,
    private readonly defaultTopic: string,
    /** Called with the number of events a transaction committed. */
    private readonly onSent: (events: number) => void = () => {},
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(event: ScoreEvent): void {
    if (!this.closed) this.pending.push(eventMessage(event, this.defaultTopic));
  }

  /** Writes what is queued; a failure keeps the events queued (and drops the producer) for the next call. */
  send(): Promise<void> {
    if (this.sending || this.pending.length === 0 || this.closed) return this.sending ?? Promise.resolve();
    const batch = this.pending.slice(0, MAX_BATCH);
    this.sending = (async () => {
      try {
        this.producer ??= await this.openProducer();
        await this.producer.commit({ messages: batch, offsets: { groupId: '', partitions: [] } });
        // Only what was sent leaves the queue; events added meanwhile stay.
        this.pending.splice(0, batch.length);
        this.onSent(batch.length);
      } catch (error) {
        const producer = this.producer;
        this.producer = undefined;
        await producer?.close().catch(() => {});
        throw error;
      } finally {
        this.sending = undefined;
      }
    })();
    return this.sending;
  }

  snapshot(): EventOutboxSnapshot {
    return this.pending.map((m) => [m.topic, m.key, m.value]);
  }

  restore(snapshot: EventOutboxSnapshot | undefined): void {
    this.pending = (snapshot ?? []).map(([topic, key, value]) => ({ topic, key, value }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sending?.catch(() => {});
    await this.producer?.close().catch(() => {});
    this.producer = undefined;
  }
}
