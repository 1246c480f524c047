/** Shared helpers for the remote-write unit tests. */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { HistogramValue, MetricDescriptor } from '../../../src/core/metric-model.ts';
import type { Label, Sample } from '../../../src/core/types.ts';
import { Batch } from '../../../src/sinks/remote-write/batch.ts';
import type { SeriesRef } from '../../../src/sinks/remote-write/series-catalog.ts';
import { encodedLabels } from '../../../src/sinks/remote-write/wire.ts';
import { remoteWriteConfigSchema } from '../../../src/sinks/remote-write/config.ts';
import type { RemoteWriteConfig } from '../../../src/sinks/remote-write/config.ts';
import type { SenderEvents } from '../../../src/sinks/remote-write/sender.ts';

/** Sorted labels for a metric name plus extra labels. */
export function labels(name: string, extra: Record<string, string> = {}): Label[] {
  return [{ name: '__name__', value: name }, ...Object.entries(extra).map(([n, v]) => ({ name: n, value: v }))].sort(
    (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

export function sample(name: string, value: number, timestampMs: number, extra: Record<string, string> = {}): Sample {
  return { labels: labels(name, extra), value, timestampMs };
}

/** A series ref as the catalog makes one, for encoder tests. */
export function seriesRef(name: string, extra: Record<string, string>): SeriesRef {
  const l = labels(name, extra);
  return { labels: l, key: JSON.stringify(l), shard: 0, labelBytes: encodedLabels(l), bytes: 64, group: undefined, overflow: false, active: true, lastSeenMs: 0, order: undefined };
}

export interface BatchEntry {
  readonly ref: SeriesRef;
  readonly value: number;
  readonly ts: number;
  readonly start?: number;
  readonly metric?: MetricDescriptor;
  readonly histogram?: HistogramValue;
}

/** A batch holding `entries`, each of weight 1, as a shard hands one to its encoder. */
export function batchOf(entries: readonly BatchEntry[]): Batch {
  const batch = new Batch(entries.length);
  entries.forEach((e, i) => {
    batch.refs[i] = e.ref;
    batch.values[i] = e.value;
    batch.timestamps[i] = e.ts;
    batch.starts[i] = e.start ?? Number.NaN;
    batch.metrics[i] = e.metric;
    batch.histograms[i] = e.histogram;
    batch.weights[i] = 1;
  });
  batch.size = entries.length;
  return batch;
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Never answer (to exercise timeouts). */
  readonly hang?: boolean;
}

/** A real HTTP server on 127.0.0.1:0 that records requests and answers from a script. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private replies: Reply[] = [];
  private fallback: Reply = { status: 204 };
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const reply = this.replies.shift() ?? this.fallback;
        if (reply.hang) return;
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body ?? '');
      });
    });
  }

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/api/v1/write`;
  }

  /** Replies for the next requests, in order; afterwards `fallback` (204 unless set). */
  script(...replies: Reply[]): this {
    this.replies.push(...replies);
    return this;
  }

  always(reply: Reply): this {
    this.fallback = reply;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A parsed config, so tests exercise the real defaults. */
export function config(input: Record<string, unknown>): RemoteWriteConfig {
  return remoteWriteConfigSchema.parse(input);
}

/** SenderEvents that records every call as a string, for exact assertions. */
export class RecordingEvents implements SenderEvents {
  readonly calls: string[] = [];
  sent(tenant: string, samples: number): void {
    this.calls.push(`sent ${tenant} ${samples}`);
  }
  failed(tenant: string, samples: number, reason: string): void {
    this.calls.push(`failed ${tenant} ${samples} ${reason}`);
  }
  retried(tenant: string, samples: number): void {
    this.calls.push(`retried ${tenant} ${samples}`);
  }
  queued(): void {
    // Not recorded: the depth seen depends on timing, and `calls` must be exact.
  }
}

/** A debug-level pino logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[]; raw: string[] } {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, raw };
}

/** Polls `condition` every 5ms; fails the test if it is not true within `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
