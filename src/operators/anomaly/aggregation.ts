/**
 * The `anomaly` metric kind: one online detector per series over another metric's per-window
 * value (p95 latency, an error ratio, tokens/s, GPU utilisation, ...). Each window the input
 * emitted a value for, the detector scores it (O(1) time and memory) and learns it; the kind
 * emits the score in [0, 1] as `<name>`, a running `<name>_events_total`, and, when the score
 * reaches the threshold, an anomaly event into the stage-2 flow. The detector is deterministic
 * and its state is part of the series' state in the checkpoint, so a replay gives the same scores.
 */
import type { Label, Sample } from '../../core/types.ts';
import { SKIP, withName } from '../aggregations/aggregator.ts';
import type { SeriesStatefulAggregator, WindowContext } from '../aggregations/series-state.ts';
import type { AnomalyConfig } from './config.ts';
import { AnomalyDetector } from './detector.ts';

export interface AnomalyMetricOptions {
  readonly name: string;
  readonly input: string;
  /** Labels the input sample must carry (e.g. quantile 0.95). */
  readonly inputLabels: Readonly<Record<string, string>>;
  readonly detector: AnomalyConfig;
  readonly eventsTopic?: string;
}

interface AnomalySeries {
  detector: AnomalyDetector;
  events: number;
  /**
   * The encoded state, kept until the next update: checkpoints (every second by default) far
   * outnumber windows, and a detector's snapshot is ~1 250 doubles.
   */
  wire: AnomalyWire | undefined;
}

/** A series' detector state as bytes (every double exact, NaN included) and its event count. */
type AnomalyWire = [Uint8Array, number];

export class AnomalyAggregator implements SeriesStatefulAggregator<null, AnomalySeries> {
  readonly cumulative = false;
  readonly seriesState = true;
  readonly name: string;
  readonly invalidReason = '';
  /** Bound by the plan to the input metric's index in the series group. */
  inputIndex: number | undefined;
  private readonly inputLabels: readonly Label[];
  private readonly labelsWithoutName = new WeakMap<readonly Label[], readonly Label[]>();

  constructor(readonly options: AnomalyMetricOptions) {
    this.name = options.name;
    this.inputLabels = Object.entries(options.inputLabels).map(([name, value]) => ({ name, value }));
  }

  /** It reads no records: its input is another metric's window value. */
  read(): typeof SKIP {
    return SKIP;
  }

  create(): null {
    return null;
  }

  add(): void {}

  merge(): void {}

  encode(): unknown {
    return null;
  }

  decode(): null {
    return null;
  }

  outputLabels(base: readonly Label[]): readonly (readonly Label[])[] {
    return [withName(base, this.name), withName(base, `${this.name}_events_total`)];
  }

  emit(): void {}

  createSeriesState(): AnomalySeries {
    return { detector: new AnomalyDetector(this.options.detector), events: 0, wire: undefined };
  }

  encodeSeriesState(state: AnomalySeries): unknown {
    if (state.wire === undefined) {
      const snapshot = state.detector.snapshot();
      state.wire = [new Uint8Array(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength), state.events];
    }
    return state.wire;
  }

  decodeSeriesState(wire: unknown): AnomalySeries {
    const [bytes, events] = wire as AnomalyWire;
    // Copy into an aligned buffer: a decoded Uint8Array may sit at any offset of a larger one.
    const snapshot = new Float64Array(bytes.byteLength / 8);
    new Uint8Array(snapshot.buffer).set(bytes);
    return { detector: AnomalyDetector.restore(snapshot, this.options.detector), events, wire: undefined };
  }

  emitWindow(_acc: null | undefined, state: AnomalySeries, from: number, to: number, labels: readonly (readonly Label[])[], ctx: WindowContext, out: Sample[]): boolean {
    const sample = this.pick(out, from, to);
    if (sample === undefined || !Number.isFinite(sample.value)) return false;
    state.wire = undefined;
    const point = state.detector.update(sample.value, ctx.windowEndMs);
    if (point.anomalous) {
      state.events++;
      ctx.event({
        metric: this.name,
        tenant: ctx.tenant,
        seriesKey: ctx.seriesKey,
        labels: this.withoutName(labels[0]!),
        windowStartMs: ctx.windowStartMs,
        windowEndMs: ctx.windowEndMs,
        score: point.score,
        value: sample.value,
        expectedLower: point.lower,
        expectedUpper: point.upper,
        threshold: this.options.detector.threshold,
        ...(this.options.eventsTopic !== undefined ? { topic: this.options.eventsTopic } : {}),
      });
    }
    out.push({ labels: labels[0]!, value: point.score, timestampMs: ctx.windowEndMs });
    out.push({ labels: labels[1]!, value: state.events, timestampMs: ctx.windowEndMs });
    return true;
  }

  private pick(out: readonly Sample[], from: number, to: number): Sample | undefined {
    for (let i = from; i < to; i++) if (this.carriesInputLabels(out[i]!.labels)) return out[i];
    return undefined;
  }

  private carriesInputLabels(labels: readonly Label[]): boolean {
    for (const want of this.inputLabels) {
      let found = false;
      for (const label of labels) {
        if (label.name === want.name) {
          found = label.value === want.value;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }

  private withoutName(labels: readonly Label[]): readonly Label[] {
    let plain = this.labelsWithoutName.get(labels);
    if (!plain) this.labelsWithoutName.set(labels, (plain = labels.filter((l) => l.name !== '__name__')));
    return plain;
  }
}
