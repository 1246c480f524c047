/**
 * The `drift` metric kind: per series and window, the feature's distribution (a mergeable
 * DriftWindow, so stage-1 partials merge exactly) scored against the series' reference with
 * Evidently's stat tests. Emits `<name>{method}` (the score) and `<name>_detected{method}` (1 when
 * the method's verdict is drift, else 0) for each window that has data and a reference.
 */
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { compileFieldGetter } from '../../core/field-path.ts';
import { describeMetric, SKIP, withLabel, type MetricAbout, type PointTarget } from '../aggregations/aggregator.ts';
import { defineKind } from '../aggregations/kind.ts';
import { driftMetricSchema, type DriftReferenceConfig } from './config.ts';
import type { SeriesStateParts, SeriesStatefulAggregator, WindowContext } from '../aggregations/series-state.ts';
import { defaultDriftMethod, DRIFT_METHOD_SPECS, DRIFT_METHODS, type DriftMethod } from './methods.ts';
import { decodeReference, encodeReference, referenceParts, referenceStrategy, type ReferenceState, type ReferenceStrategy } from './reference.ts';
import type { DriftSample, FeatureType } from './sample.ts';
import { scoreDriftSamples } from './score.ts';
import { DriftWindow } from './window.ts';
import type { DriftWindowOptions } from './window-options.ts';

export interface DriftMetricOptions {
  readonly name: string;
  readonly value: string;
  readonly feature: FeatureType;
  readonly methods: readonly (DriftMethod | 'default')[];
  readonly threshold?: number;
  readonly reference: DriftReferenceConfig;
  readonly maxExactValues: number;
  readonly relativeAccuracy: number;
  readonly maxCategories: number;
}

export class DriftAggregator implements SeriesStatefulAggregator<DriftWindow, ReferenceState> {
  readonly cumulative = false;
  readonly seriesState = true;
  readonly name: string;
  readonly read: (record: Record<string, unknown>) => number | string | typeof SKIP;
  /** The score gauge `<name>` and the verdict gauge `<name>_detected`. */
  private readonly score: MetricDescriptor;
  private readonly detected: MetricDescriptor;
  private readonly windowOptions: DriftWindowOptions;
  private readonly fullOptions: Required<DriftWindowOptions>;
  private readonly strategy: ReferenceStrategy;
  /** The methods with a series of their own: the configured ones, or all that fit the feature when `default` is asked for. */
  private readonly outputMethods: readonly DriftMethod[];
  private readonly explicit: readonly DriftMethod[];
  private readonly usesDefault: boolean;
  /** The reference's windows as checkpoint parts of their own (none for a reference file). */
  readonly stateParts?: SeriesStateParts<ReferenceState>;

  constructor(
    private readonly options: DriftMetricOptions,
    about: MetricAbout = {},
  ) {
    this.name = options.name;
    this.score = describeMetric(options.name, 'gauge', about);
    this.detected = describeMetric(`${options.name}_detected`, 'gauge', { help: about.help ? `${about.help} (1: drift detected)` : '' });
    this.windowOptions = {
      featureType: options.feature,
      maxExactValues: options.maxExactValues,
      relativeAccuracy: options.relativeAccuracy,
      maxCategories: options.maxCategories,
    };
    this.fullOptions = new DriftWindow(this.windowOptions).options;
    this.strategy = referenceStrategy(options.reference, this.windowOptions);
    if (this.strategy.parts > 0) this.stateParts = referenceParts(this.strategy, this.windowOptions);
    this.usesDefault = options.methods.includes('default');
    this.explicit = options.methods.filter((m): m is DriftMethod => m !== 'default');
    const fits = DRIFT_METHODS.filter((m) => DRIFT_METHOD_SPECS[m].featureTypes.includes(options.feature));
    this.outputMethods = this.usesDefault ? fits : this.explicit;
    this.read = driftInput(options.value, options.feature);
  }

  create(): DriftWindow {
    return new DriftWindow(this.windowOptions);
  }

  add(acc: DriftWindow, value: number | string): void {
    acc.addReading(value);
  }

  merge(into: DriftWindow, from: DriftWindow): void {
    into.merge(from);
  }

  /** The window's state without its options (the configuration gives them back): see DriftWindow.wire(). */
  encode(acc: DriftWindow): unknown {
    return acc.wire();
  }

  /** The partials wire's form (copied at once): a stage-1 window's values laid out in scratch memory, see DriftWindow.wireOnce(). */
  encodeOnce(acc: DriftWindow): unknown {
    return acc.wireOnce();
  }

  decode(wire: unknown): DriftWindow {
    return DriftWindow.fromWire(wire, this.fullOptions);
  }

  /** Per method, its score point and its verdict point. */
  targets(base: readonly Label[]): readonly PointTarget[] {
    return this.outputMethods.flatMap((method) => {
      const labels = withLabel(base, { name: 'method', value: method });
      return [
        { metric: this.score, labels },
        { metric: this.detected, labels },
      ];
    });
  }

  /** Plain per-window emission is not used: the merger calls emitWindow with the series' reference. */
  emit(): void {}

  createSeriesState(): ReferenceState {
    return this.strategy.create();
  }

  encodeSeriesState(state: ReferenceState): unknown {
    return encodeReference(state, this.strategy.parts);
  }

  decodeSeriesState(wire: unknown): ReferenceState {
    return decodeReference(wire, this.fullOptions);
  }

  emitWindow(current: DriftWindow | undefined, state: ReferenceState, _from: number, _to: number, targets: readonly PointTarget[], ctx: WindowContext, out: MetricPoint[]): boolean {
    if (current === undefined || current.size === 0) return false;
    state.wire = undefined;
    const reference = this.strategy.next(state, current, ctx.windowStartMs, ctx.windowEndMs);
    if (reference === undefined || reference.size === 0) return false;
    const ref = reference.sample();
    const cur = current.sample();
    // A method at a time through emitMethod, not a closure made per window: made per call, it cost
    // more than the window's distinct-value count (the tsx loader also names every closure it makes).
    const chosen = this.usesDefault ? defaultDriftMethod(ref, cur, this.options.feature) : undefined;
    let emitted = chosen !== undefined && this.emitMethod(chosen, ref, cur, targets, ctx.windowEndMs, out);
    for (const method of this.explicit) if (method !== chosen && this.emitMethod(method, ref, cur, targets, ctx.windowEndMs, out)) emitted = true;
    return emitted;
  }

  /** The method's score and verdict points; false when it has no score (NaN). */
  private emitMethod(method: DriftMethod, ref: DriftSample, cur: DriftSample, targets: readonly PointTarget[], timestampMs: number, out: MetricPoint[]): boolean {
    const at = this.outputMethods.indexOf(method);
    const result = scoreDriftSamples(ref, cur, method, this.options.feature, this.options.threshold);
    if (Number.isNaN(result.score)) return false;
    const score = targets[2 * at]!;
    const detected = targets[2 * at + 1]!;
    out.push({ metric: score.metric, labels: score.labels, timestampMs, value: result.score });
    out.push({ metric: detected.metric, labels: detected.labels, timestampMs, value: result.detected ? 1 : 0 });
    return true;
  }
}

/**
 * A numerical feature takes finite numbers; a categorical one any string, number or boolean.
 * Anything else (missing, null, another type) leaves the record out of this metric only: a
 * record is not dead-lettered for lacking one feature (data_quality counts those).
 */
function driftInput(field: string, feature: FeatureType): (record: Record<string, unknown>) => number | string | typeof SKIP {
  const get = compileFieldGetter(field);
  if (feature === 'numerical') {
    return (record) => {
      const raw = get(record);
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : SKIP;
    };
  }
  return (record) => {
    const raw = get(record);
    if (typeof raw === 'string') return raw;
    if ((typeof raw === 'number' && Number.isFinite(raw)) || typeof raw === 'boolean') return String(raw);
    return SKIP;
  };
}

export const driftKind = defineKind(driftMetricSchema, {
  create: (config, about) =>
    new DriftAggregator(
      {
        name: config.name,
        value: config.value,
        feature: config.feature,
        methods: config.methods,
        ...(config.threshold !== undefined ? { threshold: config.threshold } : {}),
        reference: config.reference,
        maxExactValues: config.max_exact_values,
        relativeAccuracy: config.relative_accuracy,
        maxCategories: config.max_categories,
      },
      about,
    ),
});
