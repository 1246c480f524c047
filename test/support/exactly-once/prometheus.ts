// Matrix queries against a tenant's Prometheus for the exactly-once scenarios. test/stack's
// queryInstant covers instant vectors; these return every raw sample with its own timestamp.

export interface SeriesSamples {
  metric: Record<string, string>;
  /** [timestamp ms, value], ascending by time. */
  samples: [number, number][];
}

interface PromResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

/**
 * The raw samples of every series matching `selector` in (atSec − rangeSec, atSec]: an instant
 * query of the range selector `selector[<rangeSec>s]`, which Prometheus answers with the stored
 * samples and their exact timestamps (no step alignment, no lookback).
 */
export async function querySamples(baseUrl: string, selector: string, rangeSec: number, atSec: number): Promise<SeriesSamples[]> {
  const range = Math.max(1, Math.ceil(rangeSec));
  return matrix(baseUrl, 'query', { query: `${selector}[${range}s]`, time: String(atSec) });
}

/** `/api/v1/query_range`: `promql` evaluated at start, start+step, … end (lookback applies). */
export async function queryRange(baseUrl: string, promql: string, startSec: number, endSec: number, stepSec: number): Promise<SeriesSamples[]> {
  return matrix(baseUrl, 'query_range', { query: promql, start: String(startSec), end: String(endSec), step: String(stepSec) });
}

async function matrix(baseUrl: string, endpoint: 'query' | 'query_range', params: Record<string, string>): Promise<SeriesSamples[]> {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/${endpoint}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let body: PromResponse;
  try {
    body = JSON.parse(text) as PromResponse;
  } catch {
    throw new Error(`Prometheus ${endpoint} ${JSON.stringify(params.query)} at ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok || body.status !== 'success' || !body.data) {
    throw new Error(
      `Prometheus ${endpoint} ${JSON.stringify(params.query)} at ${url}: HTTP ${res.status}: ${body.errorType ?? 'error'}: ${body.error ?? text.slice(0, 500)}`,
    );
  }
  if (body.data.resultType !== 'matrix') {
    throw new Error(`Prometheus ${endpoint} ${JSON.stringify(params.query)} returned a ${body.data.resultType}, expected a matrix`);
  }
  return (body.data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((s) => ({
    metric: s.metric,
    samples: s.values.map(([t, v]) => [Math.round(t * 1000), parseValue(v)] as [number, number]),
  }));
}

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}
