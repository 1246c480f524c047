import { describe, expect, it } from 'vitest';
import type { ScoreEvent } from '../../../src/operators/aggregations/series-state.ts';
import { anomalyEventTopics, EventOutbox, eventMessage } from '../../../src/sinks/anomaly-events/event-outbox.ts';
import type { TransactionContent, TransactionalProducer } from '../../../src/sources/kafka/client.ts';

const event = (windowEndMs: number): ScoreEvent => ({
  metric: 'latency_p95_anomaly', tenant: 'acme', seriesKey: 'k1', labels: [{ name: 'model', value: 'm1' }],
  windowStartMs: windowEndMs - 60_000, windowEndMs, score: 0.9, value: 3, expectedLower: 0.1, expectedUpper: 0.3, threshold: 0.2227,
});

/** An in-memory transactional producer that fails its first `failures` commits. */
function fakeProducer(failures: number) {
  const committed: TransactionContent[] = [];
  let opened = 0;
  let left = failures;
  const open = async (): Promise<TransactionalProducer> => {
    opened++;
    return {
      commit: async (content) => {
        if (left-- > 0) throw new Error('broker away');
        committed.push(content);
      },
      close: async () => {},
    };
  };
  return { committed, open, opened: () => opened };
}

describe('anomaly event outbox', () => {
  it('keys an event by tenant, series, window and metric, and carries score, value and the expected range', () => {
    const message = eventMessage(event(120_000), 'sluice.gw.anomalies');
    expect(message.topic).toBe('sluice.gw.anomalies');
    expect(message.key).toBe('acme\u0000k1\u0000120000\u0000latency_p95_anomaly');
    expect(JSON.parse(message.value)).toEqual({
      metric: 'latency_p95_anomaly', tenant: 'acme', labels: { model: 'm1' }, window_start: '1970-01-01T00:01:00.000Z', window_end: '1970-01-01T00:02:00.000Z',
      score: 0.9, threshold: 0.2227, value: 3, expected_lower: 0.1, expected_upper: 0.3,
    });
    expect(eventMessage({ ...event(1), topic: 'own' }, 'x').topic).toBe('own');
  });

  it('keeps events through a failed write and a checkpoint, and forgets them once committed', async () => {
    const kafka = fakeProducer(1);
    const sent: number[] = [];
    const outbox = new EventOutbox(kafka.open, 'events', (n) => sent.push(n));
    outbox.add(event(60_000));
    outbox.add(event(120_000));
    await expect(outbox.send()).rejects.toThrow('broker away');
    expect(outbox.size).toBe(2);
    // A new owner restores the checkpointed events and writes them.
    const restored = new EventOutbox(kafka.open, 'events', (n) => sent.push(n));
    restored.restore(outbox.snapshot());
    await restored.send();
    expect(restored.size).toBe(0);
    expect(sent).toEqual([2]);
    expect(kafka.committed[0]!.messages.map((m) => m.key)).toEqual([eventMessage(event(60_000), 'events').key, eventMessage(event(120_000), 'events').key]);
    expect(kafka.committed[0]!.offsets.partitions).toEqual([]);
    expect(kafka.opened()).toBe(2);
    await restored.close();
  });

  it('lists the topics a pipeline writes events to', () => {
    expect(anomalyEventTopics({ name: 'gw', metrics: [{ type: 'anomaly' }, { type: 'anomaly', events_topic: 'ops.anomalies' }, { type: 'gauge' }] })).toEqual(['sluice.gw.anomalies', 'ops.anomalies']);
    expect(anomalyEventTopics({ name: 'gw', metrics: [{ type: 'gauge' }] })).toEqual([]);
  });
});
