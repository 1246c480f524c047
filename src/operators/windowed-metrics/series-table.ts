import type { Label } from '../../core/types.ts';
import { encodeStates, encodeValues, labelValuesOf, type SeriesFacts, type SeriesWire } from './merger-snapshot.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan } from './plan.ts';
import { CHANGED, NONE, OVERFLOW, SeriesColumns } from './series-columns.ts';
import { SeriesIndex } from './series-index.ts';
import { isOverflowKey, seriesKeyOf } from './series-key.ts';

export { NONE } from './series-columns.ts';

/**
 * Stage 2's live series, as handles (numbers) into per-group columns (series-columns.ts), found by
 * tenant and label values (series-index.ts), listed in birth order. A handle is `slot × groups +
 * group`: it names the group and the row without an object per series.
 *
 * Birth order is the order a series Map kept them in before: the samples, expiries and retained
 * totals' drops follow it, and a restore rebuilds it from the series' sequence numbers, so it is
 * part of what a replay reproduces. It is a doubly linked list through the rows (8 B a series).
 */
export class SeriesTable {
  readonly columns: readonly SeriesColumns[];
  private readonly indexes: readonly SeriesIndex[];
  private readonly groupCount: number;
  /** Overflow series by key, and their keys by handle (their labels do not give their key). */
  private readonly overflowByKey = new Map<string, number>();
  private readonly overflowKeys = new Map<number, string>();
  /** Tenant ids by number and numbers by id (every partials message decodes its own copy of the id). */
  private readonly tenantIds: string[] = [];
  private readonly tenantNumbers = new Map<string, number>();
  private head = NONE;
  private tail = NONE;
  private count = 0;

  constructor(private readonly groups: readonly SeriesGroupPlan[]) {
    this.groupCount = groups.length;
    this.columns = groups.map((group) => new SeriesColumns(group.aggregators));
    this.indexes = groups.map((group, g) => new SeriesIndex(group, this.columns[g]!));
  }

  get size(): number {
    return this.count;
  }

  /** The oldest series, or NONE. */
  get first(): number {
    return this.head;
  }

  /** The series born after `handle`, or NONE. */
  next(handle: number): number {
    return this.columnsOf(handle).next(this.slotOf(handle));
  }

  group(handle: number): number {
    return handle % this.groupCount;
  }

  slotOf(handle: number): number {
    return (handle - (handle % this.groupCount)) / this.groupCount;
  }

  columnsOf(handle: number): SeriesColumns {
    return this.columns[handle % this.groupCount]!;
  }

  /** The partial's series, or NONE. */
  find(partial: PartialAggregate): number {
    if (isOverflowKey(partial.key)) return this.overflowByKey.get(partial.key) ?? NONE;
    const tenant = this.tenantNumbers.get(partial.tenant);
    if (tenant === undefined) return NONE;
    const slot = this.indexes[partial.group]!.find(tenant, partial.labelValues);
    return slot < 0 ? NONE : slot * this.groupCount + partial.group;
  }

  /** A new series, the youngest: a fresh row with its tenant, labels and sequence number, flagged changed. */
  add(group: number, key: string, tenant: string, labels: readonly Label[], overflow: boolean, seq: number): number {
    const columns = this.columns[group]!;
    const slot = columns.allocate();
    const handle = slot * this.groupCount + group;
    // Birth-order links hold handles in an Int32Array: past 2^31 they would wrap and corrupt the
    // list, so fail loudly instead (series budgets keep a group far below: ~2^31 / groups series).
    if (handle > 0x7fffffff) throw new RangeError(`series group ${group} holds more series than its handles can number`);
    columns.setTenant(slot, this.tenantNumber(tenant));
    columns.labels[slot] = labels;
    columns.setSeq(slot, seq);
    columns.setFlags(slot, overflow ? CHANGED | OVERFLOW : CHANGED);
    if (overflow) {
      this.overflowByKey.set(key, handle);
      this.overflowKeys.set(handle, key);
    } else {
      this.indexes[group]!.insert(slot);
    }
    columns.setPrev(slot, this.tail);
    columns.setNext(slot, NONE);
    if (this.tail === NONE) this.head = handle;
    else this.columnsOf(this.tail).setNext(this.slotOf(this.tail), handle);
    this.tail = handle;
    this.count++;
    return handle;
  }

  /** Forgets a series and frees its row. */
  remove(handle: number): void {
    const columns = this.columnsOf(handle);
    const slot = this.slotOf(handle);
    const prev = columns.prev(slot);
    const next = columns.next(slot);
    if (prev === NONE) this.head = next;
    else this.columnsOf(prev).setNext(this.slotOf(prev), next);
    if (next === NONE) this.tail = prev;
    else this.columnsOf(next).setPrev(this.slotOf(next), prev);
    const key = this.overflowKeys.get(handle);
    if (key !== undefined) {
      this.overflowKeys.delete(handle);
      this.overflowByKey.delete(key);
    } else {
      this.indexes[this.group(handle)]!.remove(slot);
    }
    columns.release(slot);
    this.count--;
  }

  clear(): void {
    for (const columns of this.columns) columns.clear();
    for (const index of this.indexes) index.clear();
    this.overflowByKey.clear();
    this.overflowKeys.clear();
    this.head = this.tail = NONE;
    this.count = 0;
  }

  tenant(handle: number): string {
    return this.tenantIds[this.columnsOf(handle).tenant(this.slotOf(handle))]!;
  }

  labels(handle: number): readonly Label[] {
    return this.columnsOf(handle).labels[this.slotOf(handle)]!;
  }

  isOverflow(handle: number): boolean {
    return (this.columnsOf(handle).flags(this.slotOf(handle)) & OVERFLOW) !== 0;
  }

  /** The series' label values, as its partials carry them. */
  labelValues(handle: number): (string | undefined)[] {
    const group = this.groups[this.group(handle)]!;
    return labelValuesOf(group, this.labels(handle), this.isOverflow(handle));
  }

  /** The series' canonical key (series-key.ts), rebuilt from its labels. */
  key(handle: number): string {
    return this.isOverflow(handle) ? this.overflowKeys.get(handle)! : this.keyFrom(handle, this.labelValues(handle));
  }

  /** The same, from its label values (`labelValues`). */
  keyFrom(handle: number, values: readonly (string | undefined)[]): string {
    if (this.isOverflow(handle)) return this.overflowKeys.get(handle)!;
    const g = this.group(handle);
    return seriesKeyOf(this.groups[g]!, g, this.tenant(handle), values);
  }

  /** What a retained total of the series keeps (`key`: its key): its numbers out of its row, as copies. */
  facts(series: number, key: string): SeriesFacts {
    const g = this.group(series);
    const aggregators = this.groups[g]!.aggregators;
    const columns = this.columnsOf(series);
    const slot = this.slotOf(series);
    const objects = columns.cumulative[slot];
    const cumulative = new Array<unknown>(aggregators.length);
    // Up to the last start set, as the checkpoint has always held them.
    const starts: (number | undefined)[] = [];
    for (let m = 0; m < aggregators.length; m++) {
      const start = columns.start(slot, m);
      if (start !== undefined) {
        while (starts.length < m) starts.push(undefined);
        starts.push(start);
      }
      if (columns.inRow(m)) cumulative[m] = Float64Array.from(columns.load(slot, m));
      else cumulative[m] = objects?.[m];
    }
    const labelValues = this.labelValues(series);
    return {
      group: g,
      key,
      tenant: this.tenant(series),
      labelValues,
      lastDataEnd: columns.lastDataEnd(slot),
      cumulative,
      touched: columns.touched(slot),
      starts,
    };
  }

  /**
   * The series' checkpoint entry (decodeSeries reads it back), built straight from its row: what
   * `facts` says, without a facts object and its arrays (every series with data, every checkpoint).
   * `states`: its stateful kinds' states; `inParts`: those checkpointed in parts go without them.
   */
  entry(series: number, states: readonly unknown[] | undefined, inParts: boolean): SeriesWire {
    const g = this.group(series);
    const aggregators = this.groups[g]!.aggregators;
    const columns = this.columnsOf(series);
    const slot = this.slotOf(series);
    const objects = columns.cumulative[slot];
    const accs = new Array<unknown>(aggregators.length);
    let startsLength = 0;
    for (let m = 0; m < aggregators.length; m++) {
      if (columns.start(slot, m) !== undefined) startsLength = m + 1;
      // A row's numbers are in the columns' scratch array until the next `load`: encoded at once.
      const acc = columns.inRow(m) ? columns.load(slot, m) : objects?.[m];
      accs[m] = acc === undefined ? null : aggregators[m]!.encode(acc);
    }
    // Up to the last start set, as the checkpoint has always held them.
    const starts = new Array<number | null>(startsLength);
    for (let m = 0; m < startsLength; m++) starts[m] = columns.start(slot, m) ?? null;
    const values = this.labelValues(series);
    return [g, this.keyFrom(series, values), this.tenant(series), encodeValues(values), columns.lastDataEnd(slot), accs, columns.touched(slot), encodeStates(this.groups, g, states, inParts), starts];
  }

  touched(handle: number): number {
    return this.columnsOf(handle).touched(this.slotOf(handle));
  }

  addTouched(handle: number, bits: number): void {
    const columns = this.columnsOf(handle);
    const slot = this.slotOf(handle);
    columns.setTouched(slot, columns.touched(slot) | bits);
  }

  isChanged(handle: number): boolean {
    return (this.columnsOf(handle).flags(this.slotOf(handle)) & CHANGED) !== 0;
  }

  setChanged(handle: number, changed: boolean): void {
    const columns = this.columnsOf(handle);
    const slot = this.slotOf(handle);
    const flags = columns.flags(slot);
    columns.setFlags(slot, changed ? flags | CHANGED : flags & ~CHANGED);
  }

  /** Birth order and the name of the series' entry in incremental checkpoints. */
  seq(handle: number): number {
    return this.columnsOf(handle).seq(this.slotOf(handle));
  }

  /** Per aggregator, the state the series' drift or anomaly kinds keep (undefined: none in its group). */
  states(handle: number): unknown[] | undefined {
    return this.columnsOf(handle).states[this.slotOf(handle)];
  }

  private tenantNumber(tenant: string): number {
    let number = this.tenantNumbers.get(tenant);
    if (number === undefined) {
      number = this.tenantIds.length;
      this.tenantIds.push(tenant);
      this.tenantNumbers.set(tenant, number);
    }
    return number;
  }
}
