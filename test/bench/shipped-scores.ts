/**
 * The score kinds' cost in the shipped gateway pipeline, in process, the two configurations taking
 * turns window by window (interleaved.ts): scores-bench.ts's own halves put a score on every series
 * of a small group, the densest use; these readings are the pipelines as shipped, which issue 10
 * asked to use the kinds.
 *
 *  - anomaly: stage 2's CPU per series update of `pipelines/bailian-gateway.yaml` (all 21 metrics)
 *    against the same file without its 3 `anomaly` metrics (error ratio and p95 latency per model,
 *    cost rate per tenant). Stage 2 as in scores-bench: each window's partials decoded from the
 *    repartition topic's bytes, merged, fired, one incremental checkpoint packed. The partials
 *    come from generated gateway logs through the pipeline's own ingest (decode, CEL transforms)
 *    and combiner, built outside the timing. 2,000 records a window (a lower rate than
 *    pipeline-bench's, so fewer series share each window's anomaly work: the figure errs high),
 *    windows counted once the detectors are past their `learn_points` (200).
 *  - drift: the operator path per record (JSON decode, CEL transforms, tenant and event time,
 *    stage 1's combiner, the partials wire, stage 2's merge and firing, one checkpoint) of issue
 *    12's workload (the 11 `bailian_gateway_*` metrics) against the same plus the shipped
 *    `bailian_tenant_input_tokens_drift` (a 30-window trailing reference): issue 10's "a pipeline
 *    with one drift metric", the workload of pipeline-bench's drift runs. 16,667
 *    records a window, as pipeline-bench's 1M over ten minutes; windows counted once the
 *    reference is full. Kafka, Redis and remote write are left out, so the ratio is an upper bound
 *    of what drift adds to the whole pipeline (it reads no more from Kafka and sends 3 samples a
 *    window more).
 */
import { EMPTY_CONTEXT } from '../../src/codecs/decoder.ts';
import { loadPipelineFile } from '../../src/config/load.ts';
import type { MetricConfig } from '../../src/config/schema.ts';
import { planMetrics, planWindowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { Ingest, IngestedBatch } from '../../src/runtime/ingest.ts';
import { decodePartial, encodePartial } from '../../src/runtime/repartition-codec.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';
import { abba, checkpoint, collectYoung, cpuMs } from './interleaved.ts';
import { issue12Metrics } from './issue12-workload.ts';

const shipped = await loadPipelineFile(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url).pathname);
const WINDOW_MS = 10_000;
const START_MS = 1_796_083_200_000;
const TENANTS = ['acme', 'globex', 'initech'];

/** Per counted window, each side's CPU µs per unit (series update or record). */
export interface PairedWindows {
  readonly a: number[];
  readonly b: number[];
}

/** `--same without|with`: one configuration on both sides, a check of the reading itself (it should read within a few per cent of 0). */
export type Same = 'without' | 'with';

function configurations(without: MetricConfig[], withKind: MetricConfig[], same: Same | undefined): [MetricConfig[], MetricConfig[]] {
  if (same === undefined) return [without, withKind];
  return same === 'without' ? [without, without] : [withKind, withKind];
}

/** Generated gateway logs as Kafka message values, one window's worth at a time. */
function* windowsOfLogs(windows: number, perWindow: number, seed: number): Generator<Buffer[]> {
  const logs = generateGatewayLogs({ seed, tenants: TENANTS, startMs: START_MS, spanMs: windows * WINDOW_MS, count: windows * perWindow });
  for (let w = 0; w < windows; w++) {
    const values: Buffer[] = [];
    for (let i = 0; i < perWindow; i++) values.push(Buffer.from(JSON.stringify(logs.next().value)));
    yield values;
  }
}

/** One configuration: the pipeline's ingest (decode, transforms, tenant, event time), stage 1's combiner, stage 2's merger. */
function side(metrics: MetricConfig[]) {
  const groups = planMetrics(metrics);
  const windowing = planWindowing(shipped.config.window);
  return {
    ingest: new Ingest({ ...shipped, config: { ...shipped.config, metrics } }),
    batch: new IngestedBatch(),
    groups,
    combiner: new PreAggregator(groups, windowing),
    merger: new WindowMerger(groups, windowing, { allowedLatenessMs: 0, expireAfterMs: 3_600_000 }, { emit: () => {} }),
  };
}
type Side = ReturnType<typeof side>;

/** Stage 1 of one window: its messages ingested and combined, the partials as the repartition topic carries them. */
function stage1(side: Side, values: readonly Buffer[]): { key: string; value: Buffer }[] {
  const batch = side.batch;
  for (const value of values) {
    // As stage 1's source task: the hot path's reused columns, not `ingest`'s objects per record.
    if (side.ingest.ingestInto(value, EMPTY_CONTEXT, batch) !== undefined || batch.rejections !== undefined) throw new Error('a generated log was rejected');
    for (let i = 0; i < batch.count; i++) if (side.combiner.add(batch.tenants[i]!, batch.eventTimes[i]!, batch.records[i]!)) throw new Error('a generated log was refused');
  }
  return side.combiner.drain().map((p) => ({ key: p.key, value: encodePartial(p, side.groups) }));
}

/** Stage 2 of one window: the partials decoded, merged and fired, and one incremental checkpoint packed. */
function stage2(side: Side, wire: readonly { key: string; value: Buffer }[], watermark: number): void {
  for (const { key, value } of wire) side.merger.addPartial(decodePartial(key, value, side.groups));
  side.merger.advanceWatermark(watermark);
  checkpoint(side.merger);
}

/**
 * Stage 2 of the shipped gateway pipeline without (A) and with (B) its anomaly metrics, `counted`
 * windows after `warmUp` uncounted ones: CPU µs per series update (partial merged) of each side.
 */
export function shippedAnomalyPair(warmUp: number, counted: number, perWindow: number, same?: Same): PairedWindows {
  const [a, b] = configurations(shipped.config.metrics.filter((m) => m.type !== 'anomaly'), shipped.config.metrics, same);
  const sides = { a: side(a), b: side(b) };
  const perUpdate: PairedWindows = { a: [], b: [] };
  let w = 0;
  for (const values of windowsOfLogs(warmUp + counted, perWindow, 3)) {
    const wires = new Map([sides.a, sides.b].map((s) => [s, stage1(s, values)]));
    // Both sides merge the same series: an anomaly metric rides in its input's group's partial.
    const updates = wires.get(sides.a)!.length;
    for (const s of abba(w, sides.a, sides.b)) {
      const used = cpuMs(() => {
        stage2(s, wires.get(s)!, START_MS + (w + 1) * WINDOW_MS);
        collectYoung();
      });
      if (w >= warmUp) (s === sides.a ? perUpdate.a : perUpdate.b).push((used * 1000) / updates);
    }
    w++;
  }
  return perUpdate;
}

/**
 * The operator path of issue 12's workload without (A) and with (B) the shipped input-tokens drift
 * metric, `counted` windows after `warmUp` uncounted ones: CPU µs per record of each side.
 */
export function shippedDriftPair(warmUp: number, counted: number, perWindow: number, same?: Same): PairedWindows {
  const [a, b] = configurations(issue12Metrics(shipped.config.metrics, false), issue12Metrics(shipped.config.metrics, true), same);
  const sides = { a: side(a), b: side(b) };
  const perRecord: PairedWindows = { a: [], b: [] };
  let w = 0;
  for (const values of windowsOfLogs(warmUp + counted, perWindow, 5)) {
    for (const s of abba(w, sides.a, sides.b)) {
      const used = cpuMs(() => {
        stage2(s, stage1(s, values), START_MS + (w + 1) * WINDOW_MS);
        collectYoung();
      });
      if (w >= warmUp) (s === sides.a ? perRecord.a : perRecord.b).push((used * 1000) / values.length);
    }
    w++;
  }
  return perRecord;
}
