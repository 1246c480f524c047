// Minimal client for the Prometheus HTTP API, for integration tests that check what Sluice
// remote-wrote into a tenant's Prometheus: one request function (`prometheusApi`) and the typed
// reads the tests need on top of it (instant vectors, raw samples, query_range, series lists).

export type PrometheusEndpoint = 'query' | 'query_range' | 'series';

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

export interface SeriesSamples {
  metric: Record<string, string>;
  /** [timestamp ms, value], ascending by time, exactly as stored. */
  samples: [number, number][];
}

interface PromResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: unknown;
}

interface QueryData {
  resultType: 'vector' | 'scalar' | 'matrix' | 'string';
  result: unknown;
}

const REQUEST_TIMEOUT_MS = 20_000;

/**
 * One request to `/api/v1/<endpoint>`, returning the response's `data`. Sent as a POST form (no URL
 * length limit for long PromQL). Throws with the query (or series matcher), the URL, the HTTP status
 * and Prometheus' error text when the request is rejected or the answer is not JSON.
 */
export async function prometheusApi(baseUrl: string, endpoint: PrometheusEndpoint, params: Record<string, string>): Promise<unknown> {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/${endpoint}`;
  const what = `Prometheus ${endpoint} ${JSON.stringify(params.query ?? params['match[]'])} at ${url}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: PromResponse;
  try {
    body = JSON.parse(text) as PromResponse;
  } catch {
    throw new Error(`${what} failed: HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok || body.status !== 'success' || body.data === undefined) {
    throw new Error(`${what} failed: HTTP ${res.status}: ${body.errorType ?? 'error'}: ${body.error ?? text.slice(0, 500)}`);
  }
  return body.data;
}

/**
 * Instant query (`/api/v1/query`). Returns one entry per series for vector
 * results, a single entry with empty labels for scalars. `timeSec` is the
 * evaluation time in Unix seconds (default: now). Throws with Prometheus'
 * error text when the query is rejected, and on matrix/string results.
 */
export async function queryInstant(baseUrl: string, promql: string, timeSec?: number): Promise<InstantSample[]> {
  const params: Record<string, string> = { query: promql };
  if (timeSec !== undefined) params.time = String(timeSec);
  const { resultType, result } = (await prometheusApi(baseUrl, 'query', params)) as QueryData;
  switch (resultType) {
    case 'vector':
      return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((s) => ({
        metric: s.metric,
        value: parseSampleValue(s.value[1]),
      }));
    case 'scalar': {
      const [, v] = result as [number, string];
      return [{ metric: {}, value: parseSampleValue(v) }];
    }
    default:
      throw new Error(`Prometheus query ${JSON.stringify(promql)} returned a ${resultType}, expected an instant vector or scalar`);
  }
}

/**
 * Every raw sample of the series matching `selector` in (atSec − rangeSec, atSec]: an instant
 * query of the range selector `selector[<rangeSec>s]`, which Prometheus answers with a matrix of
 * the stored samples at their own timestamps (no step alignment, no lookback, stale markers
 * left out).
 */
export async function querySamples(baseUrl: string, selector: string, rangeSec: number, atSec: number): Promise<SeriesSamples[]> {
  return queryMatrix(baseUrl, 'query', { query: `${selector}[${Math.max(1, Math.ceil(rangeSec))}s]`, time: String(atSec) });
}

/** `/api/v1/query_range`: `promql` evaluated at start, start+step, … end (lookback applies). */
export async function queryRange(baseUrl: string, promql: string, startSec: number, endSec: number, stepSec: number): Promise<SeriesSamples[]> {
  return queryMatrix(baseUrl, 'query_range', { query: promql, start: String(startSec), end: String(endSec), step: String(stepSec) });
}

/** `/api/v1/series`: the label sets of every series matching `match` with a sample in [startSec, endSec]. */
export async function listSeries(baseUrl: string, match: string, startSec: number, endSec: number): Promise<Record<string, string>[]> {
  return (await prometheusApi(baseUrl, 'series', { 'match[]': match, start: String(startSec), end: String(endSec) })) as Record<string, string>[];
}

async function queryMatrix(baseUrl: string, endpoint: 'query' | 'query_range', params: Record<string, string>): Promise<SeriesSamples[]> {
  const { resultType, result } = (await prometheusApi(baseUrl, endpoint, params)) as QueryData;
  if (resultType !== 'matrix') {
    throw new Error(`Prometheus ${endpoint} ${JSON.stringify(params.query)} returned a ${resultType}, expected a matrix`);
  }
  return (result as { metric: Record<string, string>; values: [number, string][] }[]).map((s) => ({
    metric: s.metric,
    samples: s.values.map(([t, v]) => [Math.round(t * 1000), parseSampleValue(v)] as [number, number]),
  }));
}

/** Prometheus encodes sample values as strings, with "+Inf"/"-Inf"/"NaN" for the specials. */
export function parseSampleValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/** A stored native histogram as the HTTP API shows it: count, sum and its non-empty buckets. */
export interface StoredHistogram {
  readonly count: number;
  readonly sum: number;
  /** [lower, upper, count] of each non-empty bucket, in bucket order. */
  readonly buckets: [number, number, number][];
}

export interface SeriesHistograms {
  metric: Record<string, string>;
  /** [timestamp ms, histogram], ascending by time, exactly as stored. */
  histograms: [number, StoredHistogram][];
}

/** Like querySamples, for native histogram series: every stored histogram in (atSec − rangeSec, atSec]. */
export async function queryHistograms(baseUrl: string, selector: string, rangeSec: number, atSec: number): Promise<SeriesHistograms[]> {
  const query = `${selector}[${Math.max(1, Math.ceil(rangeSec))}s]`;
  const { resultType, result } = (await prometheusApi(baseUrl, 'query', { query, time: String(atSec) })) as QueryData;
  if (resultType !== 'matrix') throw new Error(`Prometheus query ${JSON.stringify(query)} returned a ${resultType}, expected a matrix`);
  type Raw = { count: string; sum: string; buckets?: [number, string, string, string][] };
  return (result as { metric: Record<string, string>; histograms?: [number, Raw][] }[]).map((s) => ({
    metric: s.metric,
    histograms: (s.histograms ?? []).map(([t, h]) => [
      Math.round(t * 1000),
      {
        count: parseSampleValue(h.count),
        sum: parseSampleValue(h.sum),
        buckets: (h.buckets ?? []).map(([, lower, upper, count]) => [parseSampleValue(lower), parseSampleValue(upper), parseSampleValue(count)] as [number, number, number]),
      },
    ]),
  }));
}
