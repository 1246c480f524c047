// Prometheus HTTP API reads for the shipped-pipeline tests. test/stack's queryInstant handles
// instant vectors only; these return raw samples (matrix) and series lists.

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

/**
 * Every raw sample of the series matching `selector` in (atSec − rangeSec, atSec]: an instant
 * query of the range selector `selector[<rangeSec>s]`, which Prometheus answers with a matrix of
 * the stored samples at their own timestamps (no step alignment, no lookback, stale markers
 * left out).
 */
export async function querySamples(baseUrl: string, selector: string, rangeSec: number, atSec: number): Promise<SeriesSamples[]> {
  const query = `${selector}[${Math.max(1, Math.ceil(rangeSec))}s]`;
  const data = (await call(baseUrl, 'query', { query, time: String(atSec) }, query)) as { resultType: string; result: unknown };
  if (data.resultType !== 'matrix') throw new Error(`Prometheus query ${JSON.stringify(query)} returned a ${data.resultType}, expected a matrix`);
  return (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((s) => ({
    metric: s.metric,
    samples: s.values.map(([t, v]) => [Math.round(t * 1000), parseValue(v)] as [number, number]),
  }));
}

/** `/api/v1/series`: the label sets of every series matching `match` with a sample in [startSec, endSec]. */
export async function listSeries(baseUrl: string, match: string, startSec: number, endSec: number): Promise<Record<string, string>[]> {
  return (await call(baseUrl, 'series', { 'match[]': match, start: String(startSec), end: String(endSec) }, match)) as Record<string, string>[];
}

async function call(baseUrl: string, endpoint: string, params: Record<string, string>, what: string): Promise<unknown> {
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
    throw new Error(`Prometheus ${endpoint} ${JSON.stringify(what)} at ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok || body.status !== 'success' || body.data === undefined) {
    throw new Error(`Prometheus ${endpoint} ${JSON.stringify(what)} at ${url}: HTTP ${res.status}: ${body.errorType ?? 'error'}: ${body.error ?? text.slice(0, 500)}`);
  }
  return body.data;
}

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}
