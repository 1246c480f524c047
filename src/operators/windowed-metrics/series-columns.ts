import type { Label } from '../../core/types.ts';
import type { Aggregator, PointTarget } from '../aggregations/aggregator.ts';

/** No series (an empty link, a missing slot). */
export const NONE = -1;

/** Flag bits of a series. */
export const CHANGED = 1;
export const OVERFLOW = 2;

/** Int32 fields per row: tenant number, touched bits, next and previous series in birth order. */
const INTS = 4;
/**
 * Rows per page. One array grown 1.5× at a time left a third of it unused right after growing
 * (at 100k counter series: 150k rows, 25 B a series); pages leave at most one page unused.
 */
const PAGE_SHIFT = 10;
const PAGE_ROWS = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_ROWS - 1;
const FIRST_ROWS = 64;

/**
 * One series group's stage-2 series as columns, a row (slot) each, with no object per series:
 *
 *  - numbers, in one Float64Array: when the series' newest data window ended, its birth sequence
 *    number, each metric's running-total start (NaN: none yet), and the accumulators of its
 *    cumulative plain-number kinds (counters, histograms);
 *  - small integers, in one Int32Array: its tenant's number, its touched bits, and its neighbours
 *    in the merger's birth order (series handles, MergerSeries' list);
 *  - flags (changed since the last incremental checkpoint, overflow series), a byte each;
 *  - its base labels (the one array the points carry, which the sinks cache their encodings by),
 *    and, only where its group has them, its own point targets, object accumulators and the
 *    stateful kinds' states.
 *
 * A series as an object with a key string and a Map entry cost 340 B per counter series; as a row
 * here and its labels, ~190 B (`test/bench/state-bench.ts`).
 *
 * Kinds read and merge accumulators as Float64Arrays: `load` copies a row's numbers into a
 * scratch array per metric, `store` copies them back.
 */
export class SeriesColumns {
  /** Per aggregator, where its accumulator starts in a row, or -1 when the series keeps it as an object. */
  private readonly accAt: readonly number[];
  private readonly scratch: readonly (Float64Array | undefined)[];
  /** A new series' row: no data yet (-Infinity), no starts (NaN), each accumulator as `create()` makes it. */
  private readonly fresh: Float64Array;
  private readonly stride: number;
  /** Rows in pages (PAGE_ROWS each; the first grows up to that): a row costs no more than itself plus a page per group. */
  private data: Float64Array[] = [];
  private ints: Int32Array[] = [];
  private flagBytes: Uint8Array[] = [];
  private capacity = 0;
  /** Per slot: the base labels; the kinds' own point targets, object accumulators, stateful states (unused: empty). */
  readonly labels: (readonly Label[] | undefined)[] = [];
  readonly outputs: (readonly (readonly PointTarget[] | undefined)[] | undefined)[] = [];
  readonly cumulative: (unknown[] | undefined)[] = [];
  readonly states: (unknown[] | undefined)[] = [];
  /** Rows ever handed out; those released are chained (through their `next`) from `freeHead`. */
  private rows = 0;
  private freeHead = NONE;

  constructor(aggregators: readonly Aggregator[]) {
    let at = 2 + aggregators.length;
    const accAt: number[] = [];
    const scratch: (Float64Array | undefined)[] = [];
    for (const aggregator of aggregators) {
      const acc = aggregator.cumulative && aggregator.plainNumbers === true ? aggregator.create() : undefined;
      if (acc instanceof Float64Array) {
        accAt.push(at);
        scratch.push(acc);
        at += acc.length;
      } else {
        accAt.push(-1);
        scratch.push(undefined);
      }
    }
    this.accAt = accAt;
    this.scratch = scratch;
    this.stride = at;
    this.fresh = new Float64Array(at).fill(Number.NaN);
    this.fresh[0] = Number.NEGATIVE_INFINITY;
    scratch.forEach((acc, m) => acc && this.fresh.set(acc, accAt[m]!));
    this.clear();
  }

  /** Is metric `m`'s accumulator in the row (true) or an object of the series' own? */
  inRow(m: number): boolean {
    return this.accAt[m]! >= 0;
  }

  /** A row for a new series: no data yet, no starts, zero accumulators, no flags. */
  allocate(): number {
    let slot = this.freeHead;
    if (slot !== NONE) {
      this.freeHead = this.next(slot);
    } else {
      slot = this.rows++;
      if (slot >= this.capacity) this.grow();
    }
    const page = slot >> PAGE_SHIFT;
    const row = slot & PAGE_MASK;
    this.data[page]!.set(this.fresh, row * this.stride);
    this.ints[page]!.fill(0, row * INTS, row * INTS + INTS);
    this.flagBytes[page]![row] = 0;
    return slot;
  }

  /** The row is free again; what it referenced is let go. */
  release(slot: number): void {
    this.labels[slot] = undefined;
    if (this.outputs.length > slot) this.outputs[slot] = undefined;
    if (this.cumulative.length > slot) this.cumulative[slot] = undefined;
    if (this.states.length > slot) this.states[slot] = undefined;
    this.setNext(slot, this.freeHead);
    this.freeHead = slot;
  }

  /** Every row free, the storage back to its first size. */
  clear(): void {
    this.rows = 0;
    this.freeHead = NONE;
    this.capacity = FIRST_ROWS;
    this.data = [new Float64Array(FIRST_ROWS * this.stride)];
    this.ints = [new Int32Array(FIRST_ROWS * INTS)];
    this.flagBytes = [new Uint8Array(FIRST_ROWS)];
    for (const column of [this.labels, this.outputs, this.cumulative, this.states]) column.length = 0;
  }

  /** Room for one more row: the first page grows 1.5× up to a page, then a page is added. */
  private grow(): void {
    if (this.capacity >= PAGE_ROWS) {
      this.data.push(new Float64Array(PAGE_ROWS * this.stride));
      this.ints.push(new Int32Array(PAGE_ROWS * INTS));
      this.flagBytes.push(new Uint8Array(PAGE_ROWS));
      this.capacity += PAGE_ROWS;
      return;
    }
    const rows = Math.min(PAGE_ROWS, Math.ceil(this.capacity * 1.5));
    const data = new Float64Array(rows * this.stride);
    data.set(this.data[0]!);
    this.data[0] = data;
    const ints = new Int32Array(rows * INTS);
    ints.set(this.ints[0]!);
    this.ints[0] = ints;
    const flags = new Uint8Array(rows);
    flags.set(this.flagBytes[0]!);
    this.flagBytes[0] = flags;
    this.capacity = rows;
  }

  lastDataEnd(slot: number): number {
    return this.data[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * this.stride]!;
  }

  setLastDataEnd(slot: number, end: number): void {
    this.data[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * this.stride] = end;
  }

  seq(slot: number): number {
    return this.data[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * this.stride + 1]!;
  }

  setSeq(slot: number, seq: number): void {
    this.data[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * this.stride + 1] = seq;
  }

  start(slot: number, m: number): number | undefined {
    const start = this.data[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * this.stride + 2 + m]!;
    return Number.isNaN(start) ? undefined : start;
  }

  setStart(slot: number, m: number, start: number | undefined): void {
    this.data[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * this.stride + 2 + m] = start ?? Number.NaN;
  }

  /** Metric `m`'s accumulator of the row, in a scratch array reused by the next `load` of `m`. */
  load(slot: number, m: number): Float64Array {
    const acc = this.scratch[m]!;
    const data = this.data[slot >> PAGE_SHIFT]!;
    const at = (slot & PAGE_MASK) * this.stride + this.accAt[m]!;
    for (let i = 0; i < acc.length; i++) acc[i] = data[at + i]!;
    return acc;
  }

  /** Writes `acc`'s numbers into the row (as many as the row holds: the kind's own width). */
  store(slot: number, m: number, acc: Float64Array): void {
    const data = this.data[slot >> PAGE_SHIFT]!;
    const at = (slot & PAGE_MASK) * this.stride + this.accAt[m]!;
    const width = this.scratch[m]!.length;
    for (let i = 0; i < width; i++) data[at + i] = i < acc.length ? acc[i]! : 0;
  }

  tenant(slot: number): number {
    return this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS]!;
  }

  setTenant(slot: number, tenant: number): void {
    this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS] = tenant;
  }

  touched(slot: number): number {
    return this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS + 1]!;
  }

  setTouched(slot: number, touched: number): void {
    this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS + 1] = touched;
  }

  next(slot: number): number {
    return this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS + 2]!;
  }

  setNext(slot: number, handle: number): void {
    this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS + 2] = handle;
  }

  prev(slot: number): number {
    return this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS + 3]!;
  }

  setPrev(slot: number, handle: number): void {
    this.ints[slot >> PAGE_SHIFT]![(slot & PAGE_MASK) * INTS + 3] = handle;
  }

  flags(slot: number): number {
    return this.flagBytes[slot >> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  setFlags(slot: number, flags: number): void {
    this.flagBytes[slot >> PAGE_SHIFT]![slot & PAGE_MASK] = flags;
  }
}
