// The unit tests' view of what stage 2 emits: metric points flattened into the Prometheus samples
// a remote-write v1 receiver gets, so assertions read as series names, labels and values.
import type { Sample } from '../../../src/core/types.ts';
import { isStaleMarker } from '../../../src/core/stale-marker.ts';
import type { MetricPoint } from '../../../src/core/metric-model.ts';
import type { Aggregator } from '../../../src/operators/aggregations/aggregator.ts';
import type { PointEmitter } from '../../../src/operators/windowed-metrics/window-merger.ts';
import { SampleFlattener } from '../../../src/sinks/prometheus/flatten.ts';

/** A merger's emitter that hands on each emission flattened into samples. */
export function sampleEmitter(onSamples: (tenant: string, samples: Sample[]) => void): PointEmitter {
  const flattener = new SampleFlattener();
  return { emit: (tenant: string, points: MetricPoint[]) => onSamples(tenant, flattener.flatten(points)) };
}

/** One `emit` of `agg` for a series without data labels, flattened: the samples it stands for. */
export function emitSamples<A>(agg: Aggregator<A>, acc: A, timestampMs: number, windowSeconds: number, startMs = 0): Sample[] {
  const points: MetricPoint[] = [];
  agg.emit(acc, agg.targets([]), timestampMs, windowSeconds, startMs, points);
  return new SampleFlattener().flatten(points);
}

/** A tenant's sample as one line, `tenant name{labels} value @ts` (`stale` for a stale marker). */
export function sampleLine(tenant: string, s: Sample): string {
  const name = s.labels.find((l) => l.name === '__name__')!.value;
  const labels = s.labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}="${l.value}"`).join(',');
  return `${tenant} ${name}{${labels}} ${isStaleMarker(s.value) ? 'stale' : s.value} @${s.timestampMs}`;
}
