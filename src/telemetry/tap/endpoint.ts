import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoadedPipeline } from '../../config/load.ts';
import { TAP_POINTS, type TapHub, type TapPoint } from './hub.ts';

/** Points that know a record's tenant, so `tenant=` can filter there. */
const TENANT_POINTS: ReadonlySet<TapPoint> = new Set(['transform', 'partials', 'samples']);
export const DEFAULT_TAP_LIMIT = 100;
const MAX_TAP_LIMIT = 100_000;
export const DEFAULT_TAP_RATE = 10;
const MAX_TAP_RATE = 1_000;

/**
 * `GET /tap?pipeline=P&at=POINT[&tenant=T][&limit=N][&rate=R]`: a stream of NDJSON lines, one per
 * sampled event (`{"pipeline","at","skipped","event"}`), ending after `limit` events or when the
 * client goes. At most `rate` events a second reach a client; `skipped` says how many it missed.
 *
 * Loopback clients only: even redacted, live records say more than metrics do, and the
 * telemetry port is often exposed for scraping.
 */
export function serveTap(req: IncomingMessage, res: ServerResponse, pipelines: readonly LoadedPipeline[], hub: TapHub): void {
  if (!isLoopback(req.socket.remoteAddress)) {
    res.writeHead(403, { 'Content-Type': 'text/plain' }).end('tap is served to loopback clients only\n');
    return;
  }
  const request = parseTapRequest(new URL(req.url ?? '/', 'http://localhost').searchParams, pipelines);
  if ('error' in request) {
    res.writeHead(request.status, { 'Content-Type': 'text/plain' }).end(`${request.error}\n`);
    return;
  }
  const { loaded, point, tenant, limit, rate } = request;
  const redact = (text: string) => loaded.source?.redact(text) ?? text;
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.flushHeaders();
  let sent = 0;
  const subscription = hub.subscribe(
    { pipeline: loaded.config.name, point, perSecond: rate, ...(tenant === undefined ? {} : { tenant }) },
    (event, skipped) => {
      if (sent >= limit) return;
      sent++;
      // Environment-derived values (endpoint secrets among them) show as the `${NAME}` the file wrote.
      res.write(`{"pipeline":${JSON.stringify(loaded.config.name)},"at":"${point}","skipped":${skipped},"event":${redact(JSON.stringify(event))}}\n`);
      if (sent >= limit) {
        subscription.close();
        res.end();
      }
    },
  );
  res.once('close', () => subscription.close());
}

interface TapRequest {
  readonly loaded: LoadedPipeline;
  readonly point: TapPoint;
  readonly tenant: string | undefined;
  readonly limit: number;
  readonly rate: number;
}

export function parseTapRequest(params: URLSearchParams, pipelines: readonly LoadedPipeline[]): TapRequest | { status: number; error: string } {
  const name = params.get('pipeline');
  const loaded = pipelines.find((p) => p.config.name === name);
  if (!loaded) return { status: 404, error: `no pipeline ${JSON.stringify(name ?? '')} runs here; running: ${pipelines.map((p) => p.config.name).join(', ') || 'none'}` };
  const at = params.get('at') ?? 'transform';
  if (!(TAP_POINTS as readonly string[]).includes(at)) return { status: 400, error: `at must be one of ${TAP_POINTS.join(', ')}` };
  const point = at as TapPoint;
  const tenant = params.get('tenant') ?? undefined;
  if (tenant !== undefined && !TENANT_POINTS.has(point)) return { status: 400, error: `tenant filters only at ${[...TENANT_POINTS].join(', ')}: ${point} does not know the tenant yet` };
  const limit = boundedInt(params.get('limit'), DEFAULT_TAP_LIMIT, MAX_TAP_LIMIT);
  const rate = boundedInt(params.get('rate'), DEFAULT_TAP_RATE, MAX_TAP_RATE);
  if (limit === undefined) return { status: 400, error: `limit must be an integer from 1 to ${MAX_TAP_LIMIT}` };
  if (rate === undefined) return { status: 400, error: `rate must be an integer from 1 to ${MAX_TAP_RATE}` };
  return { loaded, point, tenant, limit, rate };
}

function boundedInt(text: string | null, fallback: number, max: number): number | undefined {
  if (text === null) return fallback;
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 && value <= max ? value : undefined;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
