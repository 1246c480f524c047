import { describe, expect, it } from 'vitest';
import { isStaleMarker, STALE_NAN } from '../../src/core/stale-marker.ts';
import type { Sample } from '../../src/core/types.ts';
import { Outbox } from '../../src/runtime/outbox.ts';
import { packState, unpackState } from '../../src/runtime/repartition-codec.ts';
import type { SampleSink } from '../../src/sinks/sink.ts';

/** A sink that records writes and settles them only when told to. */
function recordingSink() {
  const writes: { tenant: string; samples: readonly Sample[]; settle: () => void }[] = [];
  const sink: SampleSink = {
    write: (tenant, samples, onSettled) => void writes.push({ tenant, samples, settle: () => onSettled?.() }),
    flush: async () => {},
    close: async () => {},
  };
  return { sink, writes };
}

const labels = [{ name: '__name__', value: 'x_total' }, { name: 'model', value: 'm' }];

describe('outbox', () => {
  it('keeps unacknowledged writes in its snapshot, and drops them once settled', () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    outbox.add('acme', [{ labels, value: 1, timestampMs: 10_000 }]);
    outbox.add('globex', [{ labels, value: 2, timestampMs: 10_000 }, { labels, value: 3, timestampMs: 20_000 }]);
    expect(outbox.size).toBe(3);
    writes[0]!.settle();
    expect(outbox.size).toBe(2);
    expect(outbox.snapshot().map(([tenant]) => tenant)).toEqual(['globex']);
    // What a restore re-sends is exactly what is still unacknowledged.
    const restored = new Outbox(sink);
    restored.restore(unpackState(packState(outbox.snapshot())));
    expect(writes.at(-1)!.samples.map((s) => s.value)).toEqual([2, 3]);
  });

  it('restores through the checkpoint codec and re-sends in order, stale markers bit-exact', () => {
    const { sink, writes } = recordingSink();
    const before = new Outbox(sink);
    before.add('acme', [
      { labels, value: 5, timestampMs: 10_000 },
      { labels, value: STALE_NAN, timestampMs: 20_000 },
    ]);
    const snapshot = unpackState<ReturnType<Outbox['snapshot']>>(packState(before.snapshot()));
    const after = new Outbox(sink);
    after.restore(snapshot);
    const resent = writes[1]!;
    expect(resent.tenant).toBe('acme');
    expect(resent.samples.map((s) => [s.labels, s.timestampMs])).toEqual([[labels, 10_000], [labels, 20_000]]);
    expect(resent.samples[0]!.value).toBe(5);
    expect(isStaleMarker(resent.samples[1]!.value)).toBe(true);
    expect(after.size).toBe(2);
  });

  it('restores checkpoints written before entries were packed', () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    outbox.restore([['acme', [[['__name__', 'x_total', 'model', 'm'], 7, 10_000]]]]);
    expect(writes[0]!.samples).toEqual([{ labels, value: 7, timestampMs: 10_000 }]);
  });
});
