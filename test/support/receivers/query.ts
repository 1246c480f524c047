/** Query helpers shared by the sink integration tests (Prometheus and VictoriaMetrics speak the same API). */
import { queryInstant, type InstantSample } from '../../stack/prometheus-query.ts';

export type { InstantSample };

/** Polls `fn` until it returns a value for which `done` holds, or throws after `timeoutMs` with the last value. */
export async function eventually<T>(fn: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await fn();
      if (done(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`not reached within ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 2000)}; last error: ${String(lastError)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Instant query at `timeSec` (default now), returning [] while the receiver is unreachable. */
export async function query(baseUrl: string, promql: string, timeSec?: number): Promise<InstantSample[]> {
  return queryInstant(baseUrl, promql, timeSec);
}

/** Series (by the given label) → value. */
export function byLabel(samples: readonly InstantSample[], label: string): Map<string, number> {
  return new Map(samples.map((s) => [s.metric[label] ?? '', s.value]));
}
