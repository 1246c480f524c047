import type { FieldGetter } from '../../core/field-path.ts';
import { generatedFunction } from '../../core/generated-function.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan } from './plan.ts';
import { isSeriesId, type SeriesId, type SeriesReader } from './series-key.ts';

/** One level of a record's label trie: a label field's raw value → the next level, or at the last field the tuple. */
type Level = Map<unknown, Level | RecordTuple>;

/** One label tuple of a tenant: per group its series, and the partials its records went into since the last flush. */
export class RecordTuple {
  /**
   * Per group, the partial this tuple's last record went into (undefined: none since the last
   * flush). Most records of a series land in the pane the previous one did, so the combiner
   * checks it before looking the series' pane up by key (6 string-keyed Map lookups per gateway record).
   */
  readonly partials: (PartialAggregate | undefined)[];

  constructor(
    /** Per group, the record's series (undefined for passthrough groups, which read theirs per record). */
    readonly series: readonly (SeriesId | undefined)[],
  ) {
    this.partials = new Array<PartialAggregate | undefined>(series.length).fill(undefined);
  }
}

/** A tenant's level → the record's tuple; undefined where the trie has no branch for one of its values yet. */
type TrieWalk = (level: Level, record: Record<string, unknown>) => RecordTuple | undefined;

/**
 * The trie walk as straight-line code, a field read and a Map lookup per label field: in a loop,
 * one call site called the 5 gateway label readers in turn, which V8 could neither predict nor
 * inline (figures in the commit message). Only positions enter the text (generatedFunction).
 */
function compileWalk(getters: readonly FieldGetter[]): TrieWalk {
  let body = 'let node = level;\n';
  for (let i = 0; i < getters.length; i++) body += `node = node.get(p${i}(record));\nif (node === undefined) return undefined;\n`;
  return generatedFunction<TrieWalk>('walkLabels', ['level', 'record'], `${body}return node;`, getters);
}

/** The trie's label fields (their getters), the fixed groups, and the walk over those fields. */
interface TrieShape {
  readonly getters: readonly FieldGetter[];
  readonly fixed: readonly number[];
  readonly walk: TrieWalk;
}

/**
 * Per plan, its trie's shape (undefined: nothing to share), made once: every source partition's
 * combiner, and each one a rebalance or restart builds, walks with the same generated function,
 * which V8 then interprets and optimises once, not once per partition (see group-steps.ts).
 */
const trieShapes = new WeakMap<readonly SeriesGroupPlan[], TrieShape | undefined>();

function trieShapeOf(groups: readonly SeriesGroupPlan[]): TrieShape | undefined {
  const fixed = groups.flatMap((group, g) => (group.dynamic ? [] : [g]));
  if (fixed.length < 2 || fixed.some((g) => groups[g]!.labelPaths === undefined)) return undefined;
  const byPath = new Map<string, FieldGetter>();
  for (const g of fixed) groups[g]!.labelPaths!.forEach((path, i) => byPath.has(path) || byPath.set(path, groups[g]!.labelGetters[i]!));
  if (byPath.size === 0) return undefined;
  const getters = [...byPath.values()];
  return { getters, fixed, walk: compileWalk(getters) };
}

/**
 * Label tuples one combiner keeps; beyond, its trie is dropped and refilled (a label flood). A
 * tuple costs ~760 B when every record brings a new value (its Maps and series), plus ~70 B of
 * partial slots (6 groups), and there is a combiner per source partition: 4,096 bound it to
 * ~3.4 MB each, far above a gateway's real tuples.
 */
export const MAX_RECORD_TUPLES = 4_096;

/**
 * The series of every fixed-label group of a record, found by one trie walk over the distinct
 * label fields of all groups (keyed by tenant, then each field's raw value), instead of a walk per
 * group. The gateway's 6 groups read 13 labels from 5 distinct fields: per record 6 Map lookups
 * and 5 field reads instead of 19 and 13. The leaves hold the groups' own interned series
 * (series-key.ts), so keys stay the same string objects downstream.
 *
 * A tuple for which any group's labels are unusable is not kept: `lookup` answers undefined and
 * the caller reads each group's series itself, so only groups that take the record can refuse it.
 */
export class RecordSeries {
  private byTenant = new Map<string, Level>();
  /** Every tuple in the trie, to forget their partials at a flush. */
  private tuples: RecordTuple[] = [];

  /** The trie walk below a tenant's level, one straight-line step per label field (see compileWalk). */
  private readonly walk: TrieWalk;

  private readonly getters: readonly FieldGetter[];
  private readonly fixed: readonly number[];

  private constructor(
    trie: TrieShape,
    private readonly readers: readonly SeriesReader[],
  ) {
    this.getters = trie.getters;
    this.fixed = trie.fixed;
    this.walk = trie.walk;
  }

  /** Undefined when there is nothing to share: fewer than two fixed groups with labels, or a group without label paths. */
  static of(groups: readonly SeriesGroupPlan[], readers: readonly SeriesReader[]): RecordSeries | undefined {
    if (!trieShapes.has(groups)) trieShapes.set(groups, trieShapeOf(groups));
    const trie = trieShapes.get(groups);
    return trie === undefined ? undefined : new RecordSeries(trie, readers);
  }

  /** The record's tuple; undefined when some group refuses its labels (read per group then). */
  lookup(tenant: string, record: Record<string, unknown>): RecordTuple | undefined {
    const level = this.byTenant.get(tenant);
    return (level === undefined ? undefined : this.walk(level, record)) ?? this.intern(tenant, record);
  }

  /** A flush handed every partial over: no tuple may point at one any more (nor keep it alive). */
  forgetPartials(): void {
    for (const tuple of this.tuples) tuple.partials.fill(undefined);
  }

  private intern(tenant: string, record: Record<string, unknown>): RecordTuple | undefined {
    const series = new Array<SeriesId | undefined>(this.readers.length);
    for (const g of this.fixed) {
      const read = this.readers[g]!(tenant, record);
      if (!isSeriesId(read)) return undefined;
      series[g] = read;
    }
    if (this.tuples.length >= MAX_RECORD_TUPLES) {
      this.byTenant = new Map();
      this.tuples = [];
    }
    let level = this.byTenant.get(tenant);
    if (level === undefined) this.byTenant.set(tenant, (level = new Map()));
    const getters = this.getters;
    for (let i = 0; i < getters.length - 1; i++) {
      const raw = getters[i]!(record);
      let next = level.get(raw) as Level | undefined;
      if (next === undefined) level.set(raw, (next = new Map()));
      level = next;
    }
    const tuple = new RecordTuple(series);
    level.set(getters[getters.length - 1]!(record), tuple);
    this.tuples.push(tuple);
    return tuple;
  }
}
