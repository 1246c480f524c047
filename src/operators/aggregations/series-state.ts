import type { MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import type { Aggregator, PointTarget } from './aggregator.ts';

/** An anomaly event: a window whose score reached the metric's threshold. */
export interface ScoreEvent {
  readonly metric: string;
  readonly tenant: string;
  /** The series' canonical key (tenant and labels), the event's identity with the window. */
  readonly seriesKey: string;
  /** The score's labels (no `__name__`). */
  readonly labels: readonly Label[];
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly score: number;
  readonly value: number;
  readonly expectedLower: number;
  readonly expectedUpper: number;
  readonly threshold: number;
  /** The metric's own events topic (absent: the pipeline's default). */
  readonly topic?: string;
}

/** What a stateful kind learns about the window it emits for (one scratch object, refilled per call). */
export interface WindowContext {
  tenant: string;
  seriesKey: string;
  windowStartMs: number;
  windowEndMs: number;
  windowSeconds: number;
  /** When the emitting kind's running totals (anomaly's events counter) started: its first window's start. */
  seriesStartMs: number;
  /** Hands an anomaly event to the stage-2 flow (checkpointed with the state, written to Kafka). */
  readonly event: (event: ScoreEvent) => void;
}

/**
 * A per-window kind that also keeps state per series across windows (drift references, anomaly
 * detectors). The merger creates the state with the series, keeps it in its snapshot, drops it
 * when the series expires, and calls `emitWindow` instead of `emit` at every window of the
 * series, in window order, so the state is a function of the input alone (a replay reproduces it).
 */
export interface SeriesStatefulAggregator<A = unknown, S = unknown> extends Aggregator<A> {
  readonly seriesState: true;
  /** Index, in its series group, of the per-window metric whose points this kind reads (anomaly). */
  readonly inputIndex?: number;
  createSeriesState(): S;
  /**
   * The state's checkpoint form. It may share memory with the live state (anomaly's detector
   * bytes: copying ~10 KB per series and window out first cost more than the rest of the window),
   * so it is packed before the series' next window, as a checkpoint does at once.
   */
  encodeSeriesState(state: S): unknown;
  decodeSeriesState(wire: unknown): S;
  /**
   * A state too big to rewrite at every window may be checkpointed in parts (anomaly: ~10 KB of
   * detector, of which a window changes ~100 doubles): an incremental checkpoint's series entry
   * then holds `encodeMain`, and each part is an entry of its own, written only when it changed.
   */
  readonly stateParts?: SeriesStateParts<S>;
  /**
   * One window of the series: `acc` is this metric's accumulator (undefined when it took no record
   * in the window); `out[inputFrom, inputTo)` are the points the input metric emitted for the
   * series in this window (an empty range without an input). Returns true when it emitted (the
   * series then gets stale markers for it on expiry).
   */
  emitWindow(acc: A | undefined, state: S, inputFrom: number, inputTo: number, targets: readonly PointTarget[], ctx: WindowContext, out: MetricPoint[]): boolean;
}

/** How a stateful kind's state is checkpointed in parts (`SeriesStatefulAggregator.stateParts`). */
export interface SeriesStateParts<S> {
  /** The state without its parts; `decodeSeriesState` reads it (the parts are then written back with `restore`). */
  encodeMain(state: S): unknown;
  /** How many parts the state has: fixed for its life (an expired series' entries are removed by it). */
  count(state: S): number;
  /** Calls `put` with each part changed since the last call (every part if `all`), then counts afresh. */
  changed(state: S, all: boolean, put: (part: number, wire: unknown) => void): void;
  /** Writes back a part `changed` gave into a state decoded from `encodeMain`'s form. */
  restore(state: S, part: number, wire: unknown): void;
}

export function isSeriesStateful(aggregator: Aggregator<any, any>): aggregator is SeriesStatefulAggregator {
  return (aggregator as Partial<SeriesStatefulAggregator>).seriesState === true;
}

/** What the merger keeps per series that a window's emission reads and updates. */
export interface SeriesOutputs {
  /** Aggregator m's points' descriptors and labels. */
  targets(m: number): readonly PointTarget[];
  /** Per aggregator, the stateful kinds' state (absent: none in the group). */
  readonly states: readonly unknown[] | undefined;
  /** When aggregator m's running totals started (set at its first emission). */
  start(m: number): number | undefined;
  setStart(m: number, start: number): void;
}

/** What a window's emission does with each metric of a group (SeriesWindowPlan.kinds). */
const PLAIN = 0;
const CUMULATIVE = 1;
const STATEFUL = 2;

/**
 * How a group's series emit a window, decided once per group, not per series and window: each
 * metric's part (a plain per-window kind, a cumulative one, a stateful one), the stateful kinds
 * in order with the input each reads, and which plain kinds' points a stateful kind reads (only
 * those have their span in `out` noted), instead of testing each metric's kind and clearing a
 * span per metric for every series and window.
 */
export class SeriesWindowPlan {
  readonly kinds: Uint8Array;
  /** The stateful kinds' metric indexes, in metric order. */
  readonly stateful: Int32Array;
  /** Per stateful kind (as in `stateful`), the index of its input's span in `spans`, or -1: no input. */
  private readonly inputSpan: Int32Array;
  /** Per metric, the index of its span in `spans` (-1: no stateful kind reads it). */
  private readonly spanOf: Int32Array;
  /** Where each read metric's points of the series' window start and end in `out` (one reused buffer: read before the next series' are written). */
  private readonly spans: Int32Array;

  constructor(readonly aggregators: readonly Aggregator[]) {
    const count = aggregators.length;
    this.kinds = Uint8Array.from(aggregators, (a) => (a.cumulative ? CUMULATIVE : isSeriesStateful(a) ? STATEFUL : PLAIN));
    const stateful = aggregators.flatMap((a, m) => (isSeriesStateful(a) && !a.cumulative ? [m] : []));
    this.stateful = Int32Array.from(stateful);
    this.spanOf = new Int32Array(count).fill(-1);
    let read = 0;
    this.inputSpan = Int32Array.from(stateful, (m) => {
      const input = (aggregators[m] as SeriesStatefulAggregator).inputIndex;
      if (input === undefined) return -1;
      if (this.spanOf[input] === -1) this.spanOf[input] = read++;
      return this.spanOf[input]!;
    });
    this.spans = new Int32Array(2 * read);
  }

  /**
   * Emits one series' per-window metrics for one window: the plain kinds from their accumulators
   * (those `touched` took records), in metric order (with the cumulative ones when `emitCumulative`
   * is given), then the stateful kinds, which may read what the plain kinds just emitted. Returns
   * the stateful kinds' bits that emitted.
   */
  emit(
    accs: readonly unknown[],
    touched: number,
    series: SeriesOutputs,
    ctx: WindowContext,
    out: MetricPoint[],
    /** Sessions: emits cumulative metric `m` in its place, so a series' points keep the metrics' order. */
    emitCumulative?: (m: number) => void,
  ): number {
    const { aggregators, kinds, spans, spanOf } = this;
    for (let m = 0; m < kinds.length; m++) {
      const kind = kinds[m];
      if (kind === CUMULATIVE) {
        emitCumulative?.(m);
        continue;
      }
      if (kind === STATEFUL) continue;
      const from = out.length;
      if (touched & (1 << m)) aggregators[m]!.emit(accs[m], series.targets(m), ctx.windowEndMs, ctx.windowSeconds, ctx.windowStartMs, out);
      const at = spanOf[m]!;
      if (at >= 0) {
        // Every read metric is a plain one, so its span is written above before any stateful kind reads it.
        spans[2 * at] = from;
        spans[2 * at + 1] = out.length;
      }
    }
    const states = series.states;
    const stateful = this.stateful;
    if (stateful.length === 0 || states === undefined) return 0;
    let emitted = 0;
    for (let k = 0; k < stateful.length; k++) {
      const m = stateful[k]!;
      const aggregator = aggregators[m] as SeriesStatefulAggregator;
      const at = this.inputSpan[k]!;
      const from = at < 0 ? 0 : spans[2 * at]!;
      const to = at < 0 ? 0 : spans[2 * at + 1]!;
      const acc = touched & (1 << m) ? accs[m] : undefined;
      const start = series.start(m);
      ctx.seriesStartMs = start ?? ctx.windowStartMs;
      if (aggregator.emitWindow(acc, states[m], from, to, series.targets(m), ctx, out)) {
        emitted |= 1 << m;
        if (start === undefined) series.setStart(m, ctx.windowStartMs);
      }
    }
    return emitted;
  }
}
