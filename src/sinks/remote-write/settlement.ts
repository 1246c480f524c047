/**
 * Settlement: every write() gets a ticket counting its samples; each sample is settled exactly
 * once — delivered (2xx), failed (given up, with a reason) or filtered (deliberately not sent) —
 * and the ticket's callback runs when the last one is. flush() waits for every ticket issued
 * before it. Counting events are the caller's; this only keeps the books.
 */
import type { Logger } from 'pino';

/** How one write() ended, sample by sample. delivered + failed + filtered = samples written. */
export interface WriteOutcome {
  /** Acknowledged by a 2xx (folded overflow samples count once per input sample). */
  readonly delivered: number;
  /** Given up on, and counted with a reason. */
  readonly failed: number;
  /** Deliberately not sent: denied by the metric allow/deny lists, or a stale marker of a folded series. */
  readonly filtered: number;
}

export type SettleCallback = (outcome: WriteOutcome) => void;

export type SettleKind = 'delivered' | 'failed' | 'filtered';

export interface Ticket {
  readonly seq: number;
  /** When it was written (ms): its samples' max_delay counts from here. */
  readonly at: number;
  remaining: number;
  delivered: number;
  failed: number;
  filtered: number;
  onSettled: SettleCallback | undefined;
}

interface FlushWaiter {
  /** Resolve once every ticket with seq <= target has settled. */
  readonly target: number;
  readonly resolve: () => void;
}

export class Settlement {
  private seq = 0;
  /** Samples written and not settled. */
  private unsettled = 0;
  private readonly open: Ticket[] = [];
  private openHead = 0;
  private readonly waiters: FlushWaiter[] = [];

  /** `onProgress` runs after any settlement (the sender re-checks its blocked state there). */
  constructor(
    private readonly log: Logger,
    private readonly onProgress: () => void,
  ) {}

  get pending(): number {
    return this.unsettled;
  }

  /** The newest ticket's sequence number (0 before the first write). */
  get lastSeq(): number {
    return this.seq;
  }

  issue(samples: number, atMs: number, onSettled: SettleCallback | undefined): Ticket {
    const ticket: Ticket = { seq: ++this.seq, at: atMs, remaining: samples, delivered: 0, failed: 0, filtered: 0, onSettled };
    this.unsettled += samples;
    this.open.push(ticket);
    if (samples === 0) this.finish(ticket);
    return ticket;
  }

  /** Settles `weight` samples of `ticket`. */
  settle(ticket: Ticket, weight: number, kind: SettleKind): void {
    ticket[kind] += weight;
    ticket.remaining -= weight;
    this.unsettled -= weight;
    if (ticket.remaining === 0) this.finish(ticket);
  }

  /** Resolves once every ticket issued so far has settled. */
  whenSettled(): Promise<void> {
    const target = this.seq;
    if (this.lowestOpenSeq() > target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  private lowestOpenSeq(): number {
    return this.open[this.openHead]?.seq ?? Number.POSITIVE_INFINITY;
  }

  private finish(ticket: Ticket): void {
    const callback = ticket.onSettled;
    if (callback !== undefined) {
      ticket.onSettled = undefined;
      const outcome: WriteOutcome = { delivered: ticket.delivered, failed: ticket.failed, filtered: ticket.filtered };
      // Never call back from inside write() or a settle loop: the caller may re-enter.
      queueMicrotask(() => {
        try {
          callback(outcome);
        } catch (error) {
          this.log.error({ err: error }, 'onSettled callback threw');
        }
      });
    }
    // Advance past settled tickets; compact now and then.
    while (this.openHead < this.open.length && this.open[this.openHead]!.remaining === 0) this.openHead++;
    if (this.openHead === this.open.length) {
      this.open.length = 0;
      this.openHead = 0;
    } else if (this.openHead >= 1024 && this.openHead * 2 >= this.open.length) {
      this.open.splice(0, this.openHead);
      this.openHead = 0;
    }
    if (this.waiters.length > 0) {
      const lowest = this.lowestOpenSeq();
      let released = 0;
      while (released < this.waiters.length && this.waiters[released]!.target < lowest) {
        this.waiters[released]!.resolve();
        released++;
      }
      if (released > 0) this.waiters.splice(0, released);
    }
    this.onProgress();
  }
}
