/**
 * One OTLP/HTTP export request and the classification of its outcome, per the OTLP/HTTP spec:
 * 2xx is accepted (its body may report a partial success), 429, 502, 503 and 504 are retryable
 * (honouring Retry-After), everything else is permanent. No retrying here: the sender decides.
 */
import { gzipSync } from 'node:zlib';
import { fetch } from 'undici';
import type { Dispatcher, Response } from 'undici';
import { parseRetryAfter } from '../remote-write/retry-after.ts';
import { USER_AGENT } from '../remote-write/version.ts';
import { readPartialSuccess, type PartialSuccess } from './proto.ts';

export type ExportResult =
  | { readonly kind: 'success'; readonly status: number; readonly partial?: PartialSuccess }
  | {
      readonly kind: 'retryable';
      /** Metric label: `http_503`, `http_429`, `network` or `timeout`. */
      readonly reason: string;
      readonly retryAfterMs?: number;
      readonly error: string;
    }
  | { readonly kind: 'permanent'; readonly reason: string; readonly error: string };

export interface ExportTarget {
  readonly url: string;
  /** Every header, credentials included. Never log these. */
  readonly headers: Readonly<Record<string, string>>;
  readonly json: boolean;
  readonly gzip: boolean;
  readonly timeoutMs: number;
  readonly dispatcher?: Dispatcher;
}

/** OTLP/HTTP: "retryable" status codes; any other non-2xx is not retried. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Most response bytes read: a partial_success message is tiny; an error page is cut here. */
const BODY_LIMIT = 8192;

/** Request headers the sink owns; a user header of the same name is dropped. */
export function protocolHeaders(json: boolean, gzip: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': json ? 'application/json' : 'application/x-protobuf',
    'user-agent': USER_AGENT,
  };
  if (gzip) headers['content-encoding'] = 'gzip';
  return headers;
}

/** Builds the body once per batch: the same bytes are re-sent on every retry. */
export function requestBody(target: Pick<ExportTarget, 'gzip'>, encoded: Uint8Array): Uint8Array {
  return target.gzip ? gzipSync(encoded) : encoded;
}

/** POSTs one export request. Never throws: every outcome, network failures included, is an ExportResult. */
export async function sendExport(target: ExportTarget, body: Uint8Array, signal: AbortSignal | undefined): Promise<ExportResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), target.timeoutMs);
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) controller.abort();
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: target.headers,
      body,
      signal: controller.signal,
      dispatcher: target.dispatcher,
      // A followed redirect would carry the tenant's credentials wherever it points.
      redirect: 'manual',
    });
    const status = response.status;
    const text = await readBody(response);
    if (status >= 200 && status < 300) {
      const partial = readPartialSuccess(text, target.json);
      return partial === undefined ? { kind: 'success', status } : { kind: 'success', status, partial };
    }
    const error = new TextDecoder().decode(text.subarray(0, 512)).trim();
    const reason = `http_${status}`;
    if (RETRYABLE.has(status)) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      return retryAfterMs === undefined ? { kind: 'retryable', reason, error } : { kind: 'retryable', reason, retryAfterMs, error };
    }
    if (status >= 300 && status < 400) return { kind: 'permanent', reason, error: 'redirects are not followed; set the final URL' };
    return { kind: 'permanent', reason, error };
  } catch (error) {
    if (signal?.aborted) return { kind: 'permanent', reason: 'aborted', error: 'request aborted by the sender' };
    if (controller.signal.aborted) return { kind: 'retryable', reason: 'timeout', error: `no complete response within ${target.timeoutMs}ms` };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'retryable', reason: 'network', error: cause?.code ?? cause?.message ?? String(error) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The body, at most BODY_LIMIT bytes; the rest is cancelled unread, so a receiver cannot make the
 * sink hold a huge answer. A body that breaks off does not undo the status.
 */
async function readBody(response: Response): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const out = new Uint8Array(BODY_LIMIT);
  let length = 0;
  try {
    while (length < BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) return out.subarray(0, length);
      const take = Math.min(value.byteLength, BODY_LIMIT - length);
      out.set(value.subarray(0, take), length);
      length += take;
    }
    await reader.cancel();
  } catch {
    // Keep what arrived.
  }
  return out.subarray(0, length);
}
