import type { Persistent } from './state-buffer.ts';

/**
 * Novelty of the recent shape: each value is put in one of `bins` equal-mass bins (edges are
 * running quantiles, learnt by stochastic approximation with step `quantileRate` × the series'
 * mean absolute deviation), and the last `order` bins form a transition. The raw score is
 * 1 − P(last bin | the order−1 bins before it) from fixed count tables (bins^order and
 * bins^(order−1) cells; a touched cell decays by `decay` so old habits fade). 1 means "never seen
 * this sequence of levels before".
 */
export class TransitionNovelty implements Persistent {
  readonly slots: number;
  private readonly edges: Float64Array;
  private readonly transitions: Float64Array;
  private readonly contexts: Float64Array;
  /** The last `order` bins, oldest first. */
  private readonly recent: Float64Array;
  private seen = 0;
  private centre = 0;
  private scale = 0;

  constructor(
    private readonly bins: number,
    private readonly order: number,
    private readonly quantileRate: number,
    private readonly decay: number,
  ) {
    this.edges = new Float64Array(bins - 1);
    this.transitions = new Float64Array(bins ** order);
    this.contexts = new Float64Array(bins ** (order - 1));
    this.recent = new Float64Array(order);
    this.slots = 3 + this.edges.length + this.transitions.length + this.contexts.length + order;
  }

  update(x: number): number {
    if (this.seen === 0) {
      this.edges.fill(x);
      this.centre = x;
    }
    this.scale += 0.01 * (Math.abs(x - this.centre) - this.scale);
    this.centre += 0.01 * (x - this.centre);
    let bin = 0;
    while (bin < this.edges.length && x >= this.edges[bin]!) bin++;
    const step = this.quantileRate * (this.scale + 1e-9);
    for (let i = 0; i < this.edges.length; i++) {
      const tau = (i + 1) / this.bins;
      this.edges[i] = this.edges[i]! + step * (tau - (x < this.edges[i]! ? 1 : 0));
    }
    this.recent.copyWithin(0, 1);
    this.recent[this.order - 1] = bin;
    this.seen = Math.min(this.seen + 1, 1e15);
    if (this.seen < this.order) return 0;
    let context = 0;
    for (let i = 0; i < this.order - 1; i++) context = context * this.bins + this.recent[i]!;
    const transition = context * this.bins + bin;
    const c = this.transitions[transition]!;
    const cc = this.contexts[context]!;
    this.transitions[transition] = c * this.decay + 1;
    this.contexts[context] = cc * this.decay + 1;
    return cc === 0 ? 1 : 1 - c / cc;
  }

  save(out: Float64Array, at: number): number {
    out[at] = this.seen;
    out[at + 1] = this.centre;
    out[at + 2] = this.scale;
    let i = at + 3;
    for (const table of [this.edges, this.transitions, this.contexts, this.recent]) {
      out.set(table, i);
      i += table.length;
    }
    return i;
  }

  load(from: Float64Array, at: number): number {
    this.seen = from[at]!;
    this.centre = from[at + 1]!;
    this.scale = from[at + 2]!;
    let i = at + 3;
    for (const table of [this.edges, this.transitions, this.contexts, this.recent]) {
      table.set(from.subarray(i, i + table.length));
      i += table.length;
    }
    return i;
  }
}
