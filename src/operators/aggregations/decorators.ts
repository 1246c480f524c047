import type { MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import type { CompiledExpression } from '../transforms/expression.ts';
import { byName, SKIP, type Aggregator, type InvalidInput, type PointTarget } from './aggregator.ts';
import { isSeriesStateful, type SeriesStatefulAggregator } from './series-state.ts';

/**
 * Hands everything to the aggregator it wraps; a decorator overrides only what it changes. The
 * optional capabilities of some kinds (counting rejected records, per-series state) stay visible
 * through it, so the stages see a decorated drift or data_quality metric as what it is.
 */
export abstract class AggregatorDecorator<A, In> implements Aggregator<A, In> {
  readonly name: string;
  readonly cumulative: boolean;
  readonly emitKeepsAcc?: boolean;
  readonly plainNumbers?: boolean;
  readonly countRejected?: (acc: A) => void;

  constructor(protected readonly inner: Aggregator<A, In>) {
    this.name = inner.name;
    this.cumulative = inner.cumulative;
    if (inner.emitKeepsAcc === true) this.emitKeepsAcc = true;
    if (inner.plainNumbers === true) this.plainNumbers = true;
    const countRejected = inner.countRejected;
    if (countRejected !== undefined) this.countRejected = (acc) => countRejected.call(inner, acc);
    if (isSeriesStateful(inner)) Object.assign(this, seriesStateOf(inner));
  }

  read(record: Record<string, unknown>): In | InvalidInput | typeof SKIP {
    return this.inner.read(record);
  }

  create(): A {
    return this.inner.create();
  }

  add(acc: A, value: In, eventTimeMs: number): void {
    this.inner.add(acc, value, eventTimeMs);
  }

  merge(into: A, from: A): void {
    this.inner.merge(into, from);
  }

  encode(acc: A): unknown {
    return this.inner.encode(acc);
  }

  decode(wire: unknown): A {
    return this.inner.decode(wire);
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return this.inner.targets(base);
  }

  emit(acc: A, targets: readonly PointTarget[], timestampMs: number, windowSeconds: number, startMs: number, out: MetricPoint[]): void {
    this.inner.emit(acc, targets, timestampMs, windowSeconds, startMs, out);
  }
}

/**
 * A metric's `filter`: evaluated before the value is read; anything but `true` (an error
 * included) means "not for this metric", so the record is neither counted nor refused here.
 */
export class FilteredAggregator<A, In> extends AggregatorDecorator<A, In> {
  constructor(
    inner: Aggregator<A, In>,
    private readonly filter: CompiledExpression,
  ) {
    super(inner);
  }

  override read(record: Record<string, unknown>): In | InvalidInput | typeof SKIP {
    let keep: unknown;
    try {
      keep = this.filter(record);
    } catch {
      return SKIP;
    }
    return keep === true ? this.inner.read(record) : SKIP;
  }
}

/** A metric's `static_labels` on every point; they win over a data label of the same name. */
export class StaticLabelsAggregator<A, In> extends AggregatorDecorator<A, In> {
  constructor(
    inner: Aggregator<A, In>,
    private readonly statics: readonly Label[],
  ) {
    super(inner);
  }

  override targets(base: readonly Label[]): readonly PointTarget[] {
    const labels = base.filter((label) => !this.statics.some((s) => s.name === label.name));
    return this.inner.targets([...labels, ...this.statics].sort(byName));
  }
}

/** A stateful kind's series-state members, bound to it (`inputIndex` stays the decorator's own: the plan binds it there). */
function seriesStateOf(inner: SeriesStatefulAggregator): Omit<SeriesStatefulAggregator, keyof Aggregator | 'inputIndex'> {
  return {
    seriesState: true,
    createSeriesState: () => inner.createSeriesState(),
    encodeSeriesState: (state) => inner.encodeSeriesState(state),
    decodeSeriesState: (wire) => inner.decodeSeriesState(wire),
    ...(inner.stateParts !== undefined ? { stateParts: inner.stateParts } : {}),
    emitWindow: (acc, state, from, to, targets, ctx, out) => inner.emitWindow(acc, state, from, to, targets, ctx, out),
  };
}
