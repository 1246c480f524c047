import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SUCCESS_BODY_LIMIT, sendWriteRequest } from '../../../src/sinks/remote-write/client.ts';
import type { ClientConfig } from '../../../src/sinks/remote-write/client.ts';
import { buildRequestBody } from '../../../src/sinks/remote-write/encode.ts';
import { sample, TestReceiver } from './fixtures.ts';

let receiver: TestReceiver;
let cfg: ClientConfig;
const body = buildRequestBody([sample('up', 1, 1000)]).body;

beforeEach(async () => {
  receiver = await TestReceiver.start();
  cfg = { endpoint: receiver.url, headers: { 'X-Scope-OrgID': 'acme' }, timeout: 2_000 };
});
afterEach(async () => {
  await receiver.stop();
});

describe('sendWriteRequest', () => {
  it('POSTs the body with the remote-write headers and the tenant headers', async () => {
    receiver.script({ status: 204 });
    expect(await sendWriteRequest(cfg, body)).toEqual({ kind: 'success', status: 204 });
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/v1/write');
    expect(request.body.equals(body)).toBe(true);
    expect(request.headers['content-encoding']).toBe('snappy');
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    expect(request.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
    expect(request.headers['user-agent']).toBe('sluice/0.1.0');
    expect(request.headers['x-scope-orgid']).toBe('acme');
  });

  it('keeps the protocol headers even if an unvalidated config tries to override them', async () => {
    const sneaky = { ...cfg, headers: { 'content-type': 'text/plain', 'USER-AGENT': 'curl', 'Content-Encoding': 'gzip' } };
    await sendWriteRequest(sneaky, body);
    const headers = receiver.requests[0]!.headers;
    expect([headers['content-type'], headers['user-agent'], headers['content-encoding']]).toEqual([
      'application/x-protobuf',
      'sluice/0.1.0',
      'snappy',
    ]);
  });

  it('classifies 5xx as retryable and reads Retry-After seconds', async () => {
    receiver.script({ status: 503, headers: { 'Retry-After': '7' }, body: 'overloaded' });
    expect(await sendWriteRequest(cfg, body)).toEqual({
      kind: 'retryable',
      reason: 'http_503',
      status: 503,
      retryAfterMs: 7_000,
      error: 'overloaded',
    });
  });

  it('classifies 500 without Retry-After as retryable with no delay hint', async () => {
    receiver.script({ status: 500, body: 'boom\n' });
    expect(await sendWriteRequest(cfg, body)).toEqual({ kind: 'retryable', reason: 'http_500', status: 500, error: 'boom' });
  });

  it('classifies 429 as retryable and reads a Retry-After HTTP-date', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 30_000);
    receiver.script({ status: 429, headers: { 'Retry-After': at.toUTCString() }, body: 'slow down' });
    const result = await sendWriteRequest(cfg, body);
    expect(result).toMatchObject({ kind: 'retryable', reason: 'http_429', status: 429, error: 'slow down' });
    const retryAfterMs = result.kind === 'retryable' ? result.retryAfterMs : undefined;
    expect(retryAfterMs).toBeGreaterThan(25_000);
    expect(retryAfterMs).toBeLessThanOrEqual(31_000);
  });

  it('classifies other 4xx as permanent and truncates the body to 512 chars', async () => {
    const long = `out of order sample ${'x'.repeat(2_000)}`;
    receiver.script({ status: 400, body: long });
    expect(await sendWriteRequest(cfg, body)).toEqual({
      kind: 'permanent',
      reason: 'http_400',
      status: 400,
      error: `${long.slice(0, 512)}…`,
    });
    receiver.script({ status: 404, body: 'not found' });
    expect(await sendWriteRequest(cfg, body)).toEqual({ kind: 'permanent', reason: 'http_404', status: 404, error: 'not found' });
  });

  it('does not follow redirects (they would leak tenant headers or turn POST into GET)', async () => {
    receiver.script({ status: 308, headers: { Location: 'http://127.0.0.1:1/elsewhere' } });
    expect(await sendWriteRequest(cfg, body)).toEqual({
      kind: 'permanent',
      reason: 'http_308',
      status: 308,
      error: 'redirects are not followed; set endpoint to the final URL',
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it('classifies a refused connection as a retryable network error', async () => {
    const closed = await TestReceiver.start();
    const url = closed.url;
    await closed.stop();
    const result = await sendWriteRequest({ ...cfg, endpoint: url }, body);
    expect(result).toMatchObject({ kind: 'retryable', reason: 'network' });
    expect(result.kind === 'retryable' && result.error).toMatch(/ECONNREFUSED/);
  });

  it('classifies no response within the timeout as retryable', async () => {
    receiver.script({ status: 200, hang: true });
    expect(await sendWriteRequest({ ...cfg, timeout: 100 }, body)).toEqual({
      kind: 'retryable',
      reason: 'timeout',
      error: 'no complete response within 100ms',
    });
  });

  it("reports the caller's abort as permanent 'aborted'", async () => {
    receiver.script({ status: 200, hang: true });
    const controller = new AbortController();
    const pending = sendWriteRequest(cfg, body, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toEqual({ kind: 'permanent', reason: 'aborted', error: 'request aborted by the sender' });
  });
});

/**
 * A receiver answering "200 OK" with a body of `bodyBytes`, streamed with backpressure, so it
 * only produces what the client's socket takes. `acknowledged` counts the bytes the kernel took
 * from it per response; `connections` the TCP connections opened.
 */
class BigBodyReceiver {
  acknowledged: number[] = [];
  connections = 0;
  private readonly server: Server;
  private readonly finished: Array<Promise<void>> = [];

  constructor(private readonly bodyBytes: number) {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const index = this.acknowledged.push(0) - 1;
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(this.bodyBytes) });
        let offered = 0;
        this.finished.push(
          new Promise<void>((resolve) => {
            res.on('close', resolve);
            const pump = (): void => {
              while (offered < this.bodyBytes && !res.destroyed) {
                const piece = chunk.subarray(0, Math.min(chunk.length, this.bodyBytes - offered));
                offered += piece.length;
                const more = res.write(piece, (error) => {
                  if (!error) this.acknowledged[index]! += piece.length;
                });
                if (!more) return void res.once('drain', pump);
              }
              if (offered >= this.bodyBytes) res.end();
            };
            pump();
          }),
        );
      });
    });
    this.server.on('connection', () => this.connections++);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1/write`;
  }

  /** Resolves when every response so far has ended or its connection closed. */
  async settled(): Promise<void> {
    await Promise.all(this.finished);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Sends `requests` write requests, one after another on one connection pool, to a receiver answering 200 with `bodyBytes`. */
async function sendTo200(bodyBytes: number, requests: number): Promise<BigBodyReceiver> {
  const receiver = new BigBodyReceiver(bodyBytes);
  const dispatcher = new Agent({ connections: 1 });
  try {
    const endpoint = await receiver.start();
    for (let i = 0; i < requests; i++) {
      expect(await sendWriteRequest({ endpoint, headers: {}, timeout: 60_000, dispatcher }, body)).toEqual({ kind: 'success', status: 200 });
    }
    await receiver.settled();
    return receiver;
  } finally {
    await dispatcher.close();
    await receiver.stop();
  }
}

describe('sendWriteRequest and 2xx bodies', () => {
  it('reads at most a few KB of a huge 200 body: the receiver can neither fill memory nor stall the shard', async () => {
    const big = await sendTo200(256 * 1024 * 1024, 4);
    expect(big.acknowledged).toHaveLength(4);
    // What the kernel took: the client's few KB plus socket buffers (3.75 MiB measured), not 256 MiB.
    for (const bytes of big.acknowledged) expect(bytes).toBeLessThan(32 * 1024 * 1024);
  });

  it('keeps a 2xx a success when its body breaks off (the receiver accepted the samples)', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': '10000' });
        res.write('partial', () => res.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
      expect(await sendWriteRequest({ endpoint, headers: {}, timeout: 5_000 }, body)).toEqual({ kind: 'success', status: 200 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('drains a small 2xx body so the keep-alive connection is reused', async () => {
    const small = await sendTo200(SUCCESS_BODY_LIMIT - 100, 3);
    expect(small.acknowledged).toEqual([SUCCESS_BODY_LIMIT - 100, SUCCESS_BODY_LIMIT - 100, SUCCESS_BODY_LIMIT - 100]);
    expect(small.connections).toBe(1);
  });
});
