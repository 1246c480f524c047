import { afterEach, describe, expect, it } from 'vitest';
import type { MetricDescriptor } from '../../../src/core/metric-model.ts';
import type { Sample } from '../../../src/core/types.ts';
import { decodeRequestBody } from '../../../src/sinks/remote-write/encode.ts';
import { decodeV2RequestBody } from '../../../src/sinks/remote-write/proto-v2.ts';
import { TenantSender } from '../../../src/sinks/remote-write/sender.ts';
import type { WriteOutcome } from '../../../src/sinks/remote-write/sender.ts';
import { captureLogger, config, labels, RecordingEvents, TestReceiver } from './fixtures.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

class ProtocolEvents extends RecordingEvents {
  protocolFallback(tenant: string): void {
    this.calls.push(`fallback ${tenant}`);
  }
}

const tokens: MetricDescriptor = { name: 'tokens_total', type: 'counter', unit: '{token}', help: 'Tokens generated.' };

function counter(model: string, value: number, ts: number): Sample {
  return { labels: labels('tokens_total', { model }), value, timestampMs: ts, metric: tokens, startTimestampMs: 1_000 };
}

const V2_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';
const written = (n: number) => ({ 'X-Prometheus-Remote-Write-Samples-Written': String(n), 'X-Prometheus-Remote-Write-Histograms-Written': '0' });

async function setup(protocol: 'v1' | 'v2' | 'auto') {
  const receiver = await TestReceiver.start();
  const events = new ProtocolEvents();
  const log = captureLogger();
  const sender = new TenantSender({
    tenant: 't',
    config: config({ endpoint: receiver.url, shards: 1, protocol, batch: { max_delay: '1h' }, retry: { initial_backoff: '1ms', max_backoff: '1ms' } }),
    logger: log.logger,
    events,
  });
  cleanup.push(async () => {
    await sender.close();
    await receiver.stop();
  });
  const write = (samples: Sample[]) =>
    new Promise<WriteOutcome>((resolve) => {
      sender.write(samples, resolve);
      void sender.flush();
    });
  return { receiver, events, log, write };
}

describe('remote-write 2.0 on the wire', () => {
  it('sends 2.0 headers, interned labels, metadata and start timestamps, and checks the written count', async () => {
    const { receiver, events, write } = await setup('v2');
    receiver.always({ status: 204, headers: written(2) });
    expect(await write([counter('a', 5, 2_000), counter('b', 6, 2_000)])).toEqual({ delivered: 2, failed: 0, filtered: 0 });
    const [request] = receiver.requests;
    expect(request!.headers['content-type']).toBe(V2_TYPE);
    expect(request!.headers['x-prometheus-remote-write-version']).toBe('2.0.0');
    expect(request!.headers['content-encoding']).toBe('snappy');
    expect(decodeV2RequestBody(request!.body).series).toEqual(
      ['a', 'b'].map((model, i) => ({
        labels: labels('tokens_total', { model }),
        samples: [{ value: 5 + i, timestampMs: 2_000, startTimestampMs: 1_000 }],
        metadata: { type: 'counter', help: 'Tokens generated.', unit: '{token}' },
      })),
    );
    expect(events.calls).toEqual(['sent t 2']);
  });

  it('counts samples the receiver did not confirm as failed (not_written), and logs no values', async () => {
    const { receiver, events, log, write } = await setup('v2');
    receiver.always({ status: 204, headers: written(1) });
    const samples = [counter('model-x1', 5, 2_000), counter('model-x2', 6, 2_000), counter('model-x3', 7, 2_000)];
    expect(await write(samples)).toEqual({ delivered: 1, failed: 2, filtered: 0 });
    expect(events.calls).toEqual(['sent t 1', 'failed t 2 not_written']);
    const line = log.lines.find((l) => l.msg === 'remote-write 2.0 receiver confirmed fewer samples written than sent');
    expect(line).toMatchObject({ samples: 3, missing: 2 });
    expect(log.raw.join('')).not.toContain('model-x');
  });

  it('v2 without written headers (a 1.0 receiver that ignores Content-Type) fails the samples, never counts them sent', async () => {
    const { receiver, events, write } = await setup('v2');
    receiver.always({ status: 204 });
    expect(await write([counter('a', 5, 2_000)])).toEqual({ delivered: 0, failed: 1, filtered: 0 });
    expect(events.calls).toEqual(['failed t 1 not_written']);
  });
});

describe('protocol: auto', () => {
  it('falls back to 1.0 on 415, resends the same samples, remembers it, and logs and counts it once', async () => {
    const { receiver, events, log, write } = await setup('auto');
    receiver.script({ status: 415, body: 'unsupported' });
    expect(await write([counter('a', 5, 2_000)])).toEqual({ delivered: 1, failed: 0, filtered: 0 });
    expect(await write([counter('a', 6, 3_000)])).toEqual({ delivered: 1, failed: 0, filtered: 0 });
    expect(receiver.requests.map((r) => r.headers['content-type'])).toEqual([V2_TYPE, 'application/x-protobuf', 'application/x-protobuf']);
    expect(receiver.requests.map((r) => r.headers['x-prometheus-remote-write-version'])).toEqual(['2.0.0', '0.1.0', '0.1.0']);
    expect(decodeRequestBody(receiver.requests[1]!.body)).toEqual([{ labels: labels('tokens_total', { model: 'a' }), value: 5, timestampMs: 2_000 }]);
    expect(events.calls).toEqual(['fallback t', 'sent t 1', 'sent t 1']);
    expect(log.lines.filter((l) => String(l.msg).includes('does not accept remote-write 2.0'))).toHaveLength(1);
  });

  it('falls back when a 2xx confirms nothing written (a 1.0 receiver that ignores Content-Type)', async () => {
    const { receiver, events, write } = await setup('auto');
    receiver.always({ status: 204 });
    expect(await write([counter('a', 5, 2_000)])).toEqual({ delivered: 1, failed: 0, filtered: 0 });
    expect(receiver.requests.map((r) => r.headers['content-type'])).toEqual([V2_TYPE, 'application/x-protobuf']);
    expect(events.calls).toEqual(['fallback t', 'sent t 1']);
  });

  it('stays on 2.0 with a receiver that confirms what it wrote', async () => {
    const { receiver, events, write } = await setup('auto');
    receiver.always({ status: 204, headers: written(1) });
    await write([counter('a', 5, 2_000)]);
    await write([counter('a', 6, 3_000)]);
    expect(receiver.requests.map((r) => r.headers['content-type'])).toEqual([V2_TYPE, V2_TYPE]);
    expect(events.calls).toEqual(['sent t 1', 'sent t 1']);
  });
});

describe('protocol: v1 (the default)', () => {
  it('ignores descriptors and start timestamps', async () => {
    const { receiver, write } = await setup('v1');
    await write([counter('a', 5, 2_000)]);
    expect(receiver.requests[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeRequestBody(receiver.requests[0]!.body)).toEqual([{ labels: labels('tokens_total', { model: 'a' }), value: 5, timestampMs: 2_000 }]);
  });
});
