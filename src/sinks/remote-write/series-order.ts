/**
 * The order a request's series are written in: by their keys (label names and values pair by
 * pair, as Prometheus sorts series), so that near-twins sit next to each other and snappy
 * turns most of each series into one back-reference (see series-grouping.ts for the figures).
 *
 * Comparing key strings per request cost more than encoding the request (13 % of the sinks'
 * CPU in the gateway pipeline's profile: 2000 keys of ~150 characters sharing long prefixes).
 * So each series is ranked once, when it first appears: the series seen so far are kept in key
 * order, a new one is placed by binary search, and its rank (its position, series with equal
 * keys sharing one) is kept on the series ref. A request then sorts plain numbers, rank and
 * first-seen position packed in one double, in a typed array: no comparator, no string.
 * Equal keys (a series forgotten and admitted again: two refs) keep first-seen order, as before.
 */
import type { SeriesRef } from './series-catalog.ts';

/** A series' place in one SeriesOrder's ranking. */
export interface OrderSlot {
  readonly owner: SeriesOrder;
  readonly ref: SeriesRef;
  rank: number;
  /** Same key as the series ranked just before it (then the same rank). */
  tied: boolean;
  /** Scratch of the request being grouped (series-grouping.ts): its stamp, and the series' group in it. */
  stamp: number;
  group: number;
}

/** Ranked series past which the ranking drops the inactive ones (then twice what is left). */
const MIN_PRUNE_AT = 4_096;

export class SeriesOrder {
  /** Every series ranked by this order, in key order; slots[i].rank is non-decreasing. */
  private slots: OrderSlot[] = emptySlots();
  private pruneAt = MIN_PRUNE_AT;
  private packed = new Float64Array(0);
  private stamps = 0;

  /** A stamp no slot carries yet: one per request grouped, shared by the encoders that share this order. */
  nextStamp(): number {
    return ++this.stamps;
  }

  /** Ranks the series of refs[lo, hi) (repeats allowed) that are not ranked yet: each then has a slot here. */
  rankAll(refs: readonly (SeriesRef | undefined)[], lo: number, hi: number): void {
    if (this.slots.length > this.pruneAt) this.prune();
    let unranked: Set<SeriesRef> | undefined;
    for (let i = lo; i < hi; i++) {
      const ref = refs[i]!;
      if (ref.order?.owner !== this) (unranked ??= new Set()).add(ref);
    }
    if (unranked !== undefined) this.rank([...unranked]);
  }

  /** Fills `rank` (length n) with the indices of groups[0, n) in key order (stable for equal keys). */
  sort(groups: readonly (SeriesRef | undefined)[], rank: Uint32Array): void {
    const n = rank.length;
    if (n === 0) return;
    this.rankAll(groups, 0, n); // after SeriesGrouping's own call, only series a prune just dropped
    if (this.packed.length < n) this.packed = new Float64Array(Math.max(n, 2 * this.packed.length));
    const packed = this.packed.subarray(0, n);
    // rank * n + g: exact in a double while rank * n < 2^53, i.e. for any real series count.
    for (let g = 0; g < n; g++) packed[g] = groups[g]!.order!.rank * n + g;
    packed.sort();
    for (let p = 0; p < n; p++) rank[p] = packed[p]! % n;
  }

  /** Places series not ranked yet (distinct refs) among the ranked ones, then renumbers. */
  private rank(refs: SeriesRef[]): void {
    refs.sort(byKey);
    const old = this.slots;
    // Filled by push, as prune() fills its array: every `slots` array then has one elements kind
    // (a preallocated `new Array(n)` is holey, and optimised code that met one kind was thrown
    // away when it met the other, three times per run; issue 12's warm-up).
    const merged: OrderSlot[] = [];
    let from = 0;
    for (const ref of refs) {
      // After every ranked series whose key is <= this one's: equal keys keep first-ranked first.
      const at = upperBound(old, ref.key, from);
      while (from < at) merged.push(old[from++]!);
      const previous = merged.length > 0 ? merged[merged.length - 1]! : undefined;
      const slot: OrderSlot = { owner: this, ref, rank: 0, tied: previous !== undefined && previous.ref.key === ref.key, stamp: 0, group: 0 };
      ref.order = slot;
      merged.push(slot);
    }
    while (from < old.length) merged.push(old[from++]!);
    this.slots = merged;
    this.renumber();
  }

  /**
   * Drops the series the catalog no longer tracks (one seen again is ranked anew), and any a
   * second order has taken over (a ref holds one slot; see request-encoder.ts).
   */
  private prune(): void {
    const kept: OrderSlot[] = [];
    let carryTie = true;
    for (const slot of this.slots) {
      if (slot.ref.active && slot.ref.order === slot) {
        // Tied to a dropped series that was tied to the one before it: tied to that one.
        slot.tied &&= carryTie && kept.length > 0;
        kept.push(slot);
        carryTie = true;
      } else {
        carryTie &&= slot.tied;
        if (slot.ref.order === slot) slot.ref.order = undefined;
      }
    }
    this.slots = kept;
    this.pruneAt = Math.max(MIN_PRUNE_AT, 2 * kept.length);
    this.renumber();
  }

  private renumber(): void {
    let rank = -1;
    for (const slot of this.slots) {
      if (!slot.tied) rank++;
      slot.rank = rank;
    }
  }
}

/**
 * An empty array whose elements kind is already "objects", as the arrays rank() and prune() fill
 * are: an empty literal's is "small integers", and upperBound, optimised on the first ranking's
 * empty array, was thrown away at the next.
 */
function emptySlots(): OrderSlot[] {
  const slots = [undefined as unknown as OrderSlot];
  slots.pop();
  return slots;
}

function byKey(a: SeriesRef, b: SeriesRef): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** First index in slots[from, length) whose key is greater than `key`. */
function upperBound(slots: readonly OrderSlot[], key: string, from: number): number {
  let lo = from;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (slots[mid]!.ref.key <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
