import { querySamples } from '../../stack/prometheus-query.ts';

/** Prometheus plumbing for the gpu-rdma pipeline test (Kafka: ../kafka-io.ts). */

/**
 * Every stored sample of the series matching `selector` in (atSec − rangeSec, atSec], with its
 * own timestamp (an instant query of a range selector: no step alignment, no lookback), as
 * series id → [timestamp ms, value][].
 */
export async function rawSeries(
  baseUrl: string,
  selector: string,
  rangeSec: number,
  atSec: number,
  idOf: (metric: Record<string, string>) => string,
): Promise<Map<string, [number, number][]>> {
  const series = await querySamples(baseUrl, selector, rangeSec, atSec);
  return new Map(series.map((s) => [idOf(s.metric), s.samples]));
}
