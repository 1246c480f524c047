// Minimal client for the Prometheus HTTP query API, for integration tests
// that check what Sluice remote-wrote into a tenant's Prometheus.

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

interface PromResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: {
    resultType: 'vector' | 'scalar' | 'matrix' | 'string';
    result: unknown;
  };
}

/**
 * Instant query (`/api/v1/query`). Returns one entry per series for vector
 * results, a single entry with empty labels for scalars. `timeSec` is the
 * evaluation time in Unix seconds (default: now). Throws with Prometheus'
 * error text when the query is rejected, and on matrix/string results.
 */
export async function queryInstant(baseUrl: string, promql: string, timeSec?: number): Promise<InstantSample[]> {
  const params = new URLSearchParams({ query: promql });
  if (timeSec !== undefined) params.set('time', String(timeSec));
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/query`;
  // POST form: no URL length limit for long PromQL
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: PromResponse;
  try {
    body = JSON.parse(text) as PromResponse;
  } catch {
    throw new Error(`Prometheus query ${JSON.stringify(promql)} at ${url} failed: HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok || body.status !== 'success' || !body.data) {
    throw new Error(
      `Prometheus query ${JSON.stringify(promql)} at ${url} failed: HTTP ${res.status}: ` +
        `${body.errorType ?? 'error'}: ${body.error ?? text.slice(0, 500)}`,
    );
  }
  const { resultType, result } = body.data;
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

/** Prometheus encodes sample values as strings, with "+Inf"/"-Inf"/"NaN" for the specials. */
function parseSampleValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}
