import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { protocolHeaders, requestBody, sendExport, type ExportTarget } from '../../../src/sinks/otlp/client.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A receiver on a free loopback port answering each request with `answer`; the bodies it got, as received. */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; got: { headers: IncomingMessage['headers']; body: Buffer }[] }> {
  const got: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/v1/metrics`, got };
}

function target(url: string, json = false): ExportTarget {
  return { url, headers: { authorization: 'Bearer s3cret', ...protocolHeaders(json, true) }, json, gzip: true, timeoutMs: 2_000 };
}

describe('sendExport', () => {
  it('posts the gzipped body with the OTLP headers and reads a partial_success', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ partialSuccess: { rejectedDataPoints: '1', errorMessage: 'old' } }));
    });
    const t = target(r.url, true);
    const result = await sendExport(t, requestBody(t, new TextEncoder().encode('{"resourceMetrics":[]}')), undefined);
    expect(result).toEqual({ kind: 'success', status: 200, partial: { rejectedDataPoints: 1, errorMessage: 'old' } });
    expect(r.got[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: 'Bearer s3cret' });
    expect(gunzipSync(r.got[0]!.body).toString()).toBe('{"resourceMetrics":[]}');
  });

  it('classifies 503 with Retry-After and 429 as retryable, 400 and redirects as permanent', async () => {
    const statuses = [503, 429, 400, 302];
    const r = await receiver((_req, res) => {
      const status = statuses.shift()!;
      res.writeHead(status, status === 503 ? { 'retry-after': '7' } : status === 302 ? { location: 'http://elsewhere/' } : {});
      res.end(status === 400 ? 'bad data' : '');
    });
    const t = target(r.url);
    const body = requestBody(t, new Uint8Array([1]));
    expect(await sendExport(t, body, undefined)).toEqual({ kind: 'retryable', reason: 'http_503', retryAfterMs: 7_000, error: '' });
    expect(await sendExport(t, body, undefined)).toEqual({ kind: 'retryable', reason: 'http_429', error: '' });
    expect(await sendExport(t, body, undefined)).toEqual({ kind: 'permanent', reason: 'http_400', error: 'bad data' });
    expect(await sendExport(t, body, undefined)).toMatchObject({ kind: 'permanent', reason: 'http_302' });
    expect(r.got).toHaveLength(4);
  });

  it('reports a refused connection as a retryable network error', async () => {
    const r = await receiver((_req, res) => res.end());
    const url = r.url;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    expect(await sendExport(target(url), new Uint8Array([1]), undefined)).toMatchObject({ kind: 'retryable', reason: 'network' });
  });
});
