/**
 * A small HTTP(S) front of the test's own for remote-write receivers:
 *
 * - header routing: the upstream is chosen by a request header (X-Scope-OrgID),
 *   as a multi-tenant gateway (Mimir's, or vmauth in front of one
 *   VictoriaMetrics per tenant) does; an unknown tenant gets 404;
 * - fault injection: while a fault is set, requests are answered with it
 *   (e.g. 429 with Retry-After) and never reach the upstream;
 * - TLS: with `tls`, it serves HTTPS (a self-signed certificate of the test);
 * - auth: with `bearerToken`, requests without that token get 401.
 *
 * Requests are forwarded whole (body buffered; remote-write bodies are small)
 * and recorded by route key, with the headers the receiver saw.
 */
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Fault {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface ProxyOptions {
  /** Upstream base URL by route key; the key is the `routeHeader` value, or '' without one. */
  readonly upstreams: Record<string, string>;
  /** Header that selects the upstream (e.g. 'x-scope-orgid'); absent: always upstreams['']. */
  readonly routeHeader?: string;
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly bearerToken?: string;
  /** On 401, echo the Authorization header received (as some misbehaving gateways do), to test scrubbing. */
  readonly echoAuthorization?: boolean;
}

export interface ProxyRequest {
  readonly route: string;
  readonly headers: IncomingHttpHeaders;
  readonly bytes: number;
  readonly status: number;
}

export class FrontProxy {
  readonly requests: ProxyRequest[] = [];
  private fault: Fault | undefined;
  private constructor(
    private readonly server: Server,
    private readonly options: ProxyOptions,
  ) {}

  static async start(options: ProxyOptions): Promise<FrontProxy> {
    let proxy: FrontProxy | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void proxy!.handle(req, res);
    const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
    proxy = new FrontProxy(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  get remoteWriteUrl(): string {
    return `${this.url}/api/v1/write`;
  }

  /** Answer every request with `fault` until cleared (undefined). */
  setFault(fault: Fault | undefined): void {
    this.fault = fault;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const header = this.options.routeHeader;
    const route = header === undefined ? '' : String(req.headers[header.toLowerCase()] ?? '');
    const reply = (status: number, headers: Record<string, string>, text: string | Buffer): void => {
      this.requests.push({ route, headers: req.headers, bytes: body.length, status });
      res.writeHead(status, headers);
      res.end(text);
    };
    if (this.options.bearerToken !== undefined && req.headers.authorization !== `Bearer ${this.options.bearerToken}`) {
      const echo = this.options.echoAuthorization ? `: got ${req.headers.authorization ?? 'nothing'}` : '';
      return reply(401, {}, `unauthorized${echo}`);
    }
    const fault = this.fault;
    if (fault !== undefined) return reply(fault.status, fault.headers ?? {}, fault.body ?? '');
    const upstream = Object.prototype.hasOwnProperty.call(this.options.upstreams, route) ? this.options.upstreams[route] : undefined;
    if (upstream === undefined) return reply(404, {}, `no upstream for tenant ${JSON.stringify(route)}`);
    try {
      const answer = await forward(`${upstream}${req.url ?? '/'}`, req.method ?? 'POST', req.headers, body);
      reply(answer.status, answer.headers, answer.body);
    } catch (error) {
      reply(502, {}, `upstream failed: ${(error as Error).message}`);
    }
  }
}

function forward(
  url: string,
  method: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const pass: Record<string, string> = {};
    for (const name of ['content-encoding', 'content-type', 'x-prometheus-remote-write-version', 'user-agent']) {
      const value = headers[name];
      if (typeof value === 'string') pass[name] = value;
    }
    pass['content-length'] = String(body.length);
    const out = httpRequest(url, { method, headers: pass, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h: Record<string, string> = {};
        const retryAfter = res.headers['retry-after'];
        if (typeof retryAfter === 'string') h['retry-after'] = retryAfter;
        resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    out.on('timeout', () => out.destroy(new Error('upstream timeout')));
    out.on('error', reject);
    out.end(body);
  });
}
