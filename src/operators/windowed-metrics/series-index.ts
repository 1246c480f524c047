import { getRandomValues } from 'node:crypto';
import type { Label } from '../../core/types.ts';
import type { SeriesGroupPlan } from './plan.ts';
import type { SeriesColumns } from './series-columns.ts';

const EMPTY = 0;
const TOMBSTONE = -1;
const FNV_PRIME = 0x01000193;
/**
 * FNV-1a's offset basis mixed with a per-process random seed. Label values come from tenants'
 * records: with a fixed basis, values that share a bucket can be found offline (3,000 crafted
 * values made a lookup 25 µs against 1.4 µs) and one tenant could slow every tenant's lookups.
 * The seed changes no output: samples, checkpoints and expiries follow birth order, not buckets.
 */
const HASH_BASIS = (0x811c9dc5 ^ getRandomValues(new Uint32Array(1))[0]!) | 0;

/**
 * Finds one series group's series (their rows in its SeriesColumns) by tenant and label values,
 * without a key string per series: an open-addressing table of slots (linear probing, at most
 * four fifths full: a lookup then probes ~3 buckets, a miss ~13) hashed over the tenant's number and the label values, checked against the
 * row's tenant and base labels. A series key is the group's prefix, the tenant and the values
 * (series-key.ts), so equal tenant and values are equal keys. Overflow series, whose labels are
 * not their values, are found by key in MergerSeries instead.
 *
 * A key string and its Map entry cost ~75 B per series; a slot here 5–10 B (4 B a bucket).
 */
export class SeriesIndex {
  private buckets = new Int32Array(16);
  /** Slots held, and buckets not empty (slots and tombstones). */
  private live = 0;
  private filled = 0;

  constructor(
    private readonly group: SeriesGroupPlan,
    private readonly columns: SeriesColumns,
  ) {}

  /** The slot of the tenant's series with these label values (as partials carry them), or -1. */
  find(tenant: number, values: readonly (string | undefined)[]): number {
    const mask = this.buckets.length - 1;
    for (let at = hashValues(tenant, values) & mask; ; at = (at + 1) & mask) {
      const bucket = this.buckets[at]!;
      if (bucket === EMPTY) return -1;
      if (bucket !== TOMBSTONE && this.matches(bucket - 1, tenant, values)) return bucket - 1;
    }
  }

  /** Adds a slot whose tenant and labels are set (and whose series is not in the index yet). */
  insert(slot: number): void {
    if ((this.filled + 1) * 5 > this.buckets.length * 4) this.rebuild(this.live + 1);
    const mask = this.buckets.length - 1;
    let at = this.hashOf(slot) & mask;
    while (this.buckets[at]! > EMPTY) at = (at + 1) & mask;
    if (this.buckets[at] === EMPTY) this.filled++;
    this.buckets[at] = slot + 1;
    this.live++;
  }

  /** Removes a slot (before its row is released: its tenant and labels find it). */
  remove(slot: number): void {
    const mask = this.buckets.length - 1;
    for (let at = this.hashOf(slot) & mask; ; at = (at + 1) & mask) {
      const bucket = this.buckets[at]!;
      if (bucket === EMPTY) throw new Error(`series slot ${slot} is not in its group's index`);
      if (bucket === slot + 1) {
        this.buckets[at] = TOMBSTONE;
        this.live--;
        return;
      }
    }
  }

  clear(): void {
    this.buckets = new Int32Array(16);
    this.live = 0;
    this.filled = 0;
  }

  /** Rehashes the live slots into a table at most half full with `count` slots (tombstones go). */
  private rebuild(count: number): void {
    let size = 16;
    while (count * 2 > size) size *= 2;
    const old = this.buckets;
    this.buckets = new Int32Array(size);
    this.live = 0;
    this.filled = 0;
    for (const bucket of old) if (bucket > EMPTY) this.insert(bucket - 1);
  }

  private hashOf(slot: number): number {
    return hashLabels(this.columns.tenant(slot), this.columns.labels[slot]!, this.group.dynamic !== undefined);
  }

  /** Are these the row's tenant and labels? Its labels are `baseLabels` of its values. */
  private matches(slot: number, tenant: number, values: readonly (string | undefined)[]): boolean {
    if (this.columns.tenant(slot) !== tenant) return false;
    const labels = this.columns.labels[slot]!;
    if (this.group.dynamic) {
      if (values.length !== 2 * labels.length) return false;
      for (let i = 0; i < labels.length; i++) if (labels[i]!.name !== values[2 * i] || labels[i]!.value !== values[2 * i + 1]) return false;
      return true;
    }
    const names = this.group.labelNames;
    let j = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === undefined) continue;
      const label = labels[j++];
      if (label === undefined || label.value !== value || label.name !== names[i]) return false;
    }
    return j === labels.length;
  }
}

function hashString(hash: number, text: string): number {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  // A separator, so that ['ab', 'c'] and ['a', 'bc'] differ.
  return Math.imul(hash ^ 0xff, FNV_PRIME);
}

/** The hash of a tenant's series by its label values (the missing ones left out, as in its labels). */
function hashValues(tenant: number, values: readonly (string | undefined)[]): number {
  let hash = Math.imul(HASH_BASIS ^ tenant, FNV_PRIME);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== undefined) hash = hashString(hash, value);
  }
  return hash >>> 0;
}

/** The same hash from the series' labels: a fixed group's values, or a passthrough's names and values. */
function hashLabels(tenant: number, labels: readonly Label[], dynamic: boolean): number {
  let hash = Math.imul(HASH_BASIS ^ tenant, FNV_PRIME);
  for (let i = 0; i < labels.length; i++) {
    if (dynamic) hash = hashString(hash, labels[i]!.name);
    hash = hashString(hash, labels[i]!.value);
  }
  return hash >>> 0;
}
