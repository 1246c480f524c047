import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { LoadedPipeline } from '../config/load.ts';
import { StatusBoard } from './status/board.ts';
import { refreshSeconds, renderStatusPage } from './status/page.ts';
import { taps, type TapHub } from './tap/hub.ts';
import { serveTap } from './tap/endpoint.ts';

export interface TelemetryServer {
  readonly url: string;
  close(): Promise<void>;
}

/** What the operator views need besides the registry (absent: /metrics, /healthz and /readyz only). */
export interface OperatorViews {
  readonly pipelines: readonly LoadedPipeline[];
  /** Defaults to the process' hub, the one the runtime's hooks offer to. */
  readonly taps?: TapHub;
}

/**
 * Serves /metrics, /healthz (the process is alive) and /readyz (every pipeline is consuming);
 * with `views`, also /status (the HTML status page), /status.json (what it and `sluice top`
 * show) and /tap (what `sluice tap` streams).
 */
export async function startTelemetryServer(
  listen: string,
  registry: Registry,
  isReady: () => boolean,
  views?: OperatorViews,
): Promise<TelemetryServer> {
  const separator = listen.lastIndexOf(':');
  const host = listen.slice(0, separator);
  const port = Number(listen.slice(separator + 1));
  const board = views ? new StatusBoard(registry, views.pipelines) : undefined;
  const hub = views?.taps ?? taps;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        () => res.writeHead(500).end('metrics unavailable\n'),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = isReady();
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
    } else if (board && (path === '/status' || path === '/status.json')) {
      board.snapshot().then(
        (status) =>
          path === '/status'
            ? res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...PAGE_HEADERS }).end(renderStatusPage(status, refreshSeconds(new URL(req.url ?? '/', 'http://localhost').searchParams.get('refresh'))))
            : res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(status)),
        () => res.writeHead(500).end('status unavailable\n'),
      );
    } else if (views && path === '/tap') {
      serveTap(req, res, views.pipelines, hub);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  board?.start();
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        board?.stop();
        server.close(() => resolve());
        // A scraper's keep-alive, a half-sent request or a tap stream must not hold the shutdown.
        server.closeAllConnections();
      }),
  };
}

/** The page loads nothing from anywhere: say so, so a browser refuses anything injected. */
const PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
};
