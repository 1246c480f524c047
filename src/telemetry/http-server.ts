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
  /** The configs running now, for /status and /tap (after a reload). */
  update(pipelines: readonly LoadedPipeline[]): void;
  close(): Promise<void>;
}

/** What POST /-/reload answers: the outcome and, when refused, why (config paths and reasons, never values). */
export interface ReloadAnswer {
  readonly ok: boolean;
  /** `applied`, `unchanged`, `refused`, `invalid` (the files do not validate) or `unavailable`. */
  readonly result: string;
  readonly reasons: readonly string[];
}

/** What the operator views need besides the registry (absent: /metrics, /healthz and /readyz only). */
export interface OperatorViews {
  readonly pipelines: readonly LoadedPipeline[];
  /** Defaults to the process' hub, the one the runtime's hooks offer to. */
  readonly taps?: TapHub;
  /** Re-reads pipelines and tenants (POST /-/reload). */
  readonly reload?: () => Promise<ReloadAnswer>;
}

/**
 * Serves /metrics, /healthz (the process is alive) and /readyz (every pipeline is consuming);
 * with `views`, also /status (the HTML status page), /status.json (what it and `sluice top`
 * show), /tap (what `sluice tap` streams) and POST /-/reload (as Prometheus' own: 200 when the
 * config was applied or unchanged, 400 when it was refused and the running one kept).
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
  let pipelines = views?.pipelines ?? [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/-/reload' && views?.reload) {
      if (req.method !== 'POST' && req.method !== 'PUT') {
        res.writeHead(405, { Allow: 'POST, PUT' }).end();
        return;
      }
      req.resume(); // the body says nothing: the files (and the tenant registry) are the config
      views.reload().then(
        (answer) => res.writeHead(answer.ok ? 200 : 400, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(`${JSON.stringify(answer)}\n`),
        () => res.writeHead(500).end('reload failed\n'),
      );
    } else if (req.method !== 'GET') {
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
      serveTap(req, res, pipelines, hub);
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
    update: (next) => {
      pipelines = next;
      board?.setPipelines(next);
    },
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
