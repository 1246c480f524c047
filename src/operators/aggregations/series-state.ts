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

/**
 * Emits one series' per-window metrics for one window: the plain kinds from their accumulators
 * (those `touched` took records), in metric order (with the cumulative ones when `emitCumulative`
 * is given), then the stateful kinds, which may read what the plain kinds just emitted. Returns
 * the stateful kinds' bits that emitted.
 */
let scratch = new Int32Array(64);
/** One reused buffer: a window's spans are read before the next series' are written. */
function spanScratch(metrics: number): Int32Array {
  if (scratch.length < 2 * metrics) scratch = new Int32Array(2 * metrics);
  scratch.fill(0, 0, 2 * metrics);
  return scratch;
}

export function emitSeriesWindow(
  aggregators: readonly Aggregator[],
  accs: readonly unknown[],
  touched: number,
  series: SeriesOutputs,
  ctx: WindowContext,
  out: MetricPoint[],
  /** Sessions: emits cumulative metric `m` in its place, so a series' points keep the metrics' order. */
  emitCumulative?: (m: number) => void,
): number {
  const states = series.states;
  let stateful = false;
  // Where each plain metric's points of this window start and end in `out`.
  const spans = states === undefined ? undefined : spanScratch(aggregators.length);
  for (let m = 0; m < aggregators.length; m++) {
    const aggregator = aggregators[m]!;
    if (aggregator.cumulative) {
      emitCumulative?.(m);
      continue;
    }
    if (isSeriesStateful(aggregator)) {
      stateful = true;
      continue;
    }
    const from = out.length;
    if (touched & (1 << m)) aggregator.emit(accs[m], series.targets(m), ctx.windowEndMs, ctx.windowSeconds, ctx.windowStartMs, out);
    if (spans) {
      spans[2 * m] = from;
      spans[2 * m + 1] = out.length;
    }
  }
  if (!stateful || !states || !spans) return 0;
  let emitted = 0;
  for (let m = 0; m < aggregators.length; m++) {
    const aggregator = aggregators[m]!;
    if (!isSeriesStateful(aggregator)) continue;
    const source = aggregator.inputIndex;
    const from = source === undefined ? 0 : spans[2 * source]!;
    const to = source === undefined ? 0 : spans[2 * source + 1]!;
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
