/**
 * The tap hub (`sluice tap`, issue 13 item 2): the runtime offers what passes a point of a
 * pipeline, and the hub hands a sample of it to the clients tapping that point.
 *
 * Costs nothing when nobody taps: every hook in the runtime is one line guarded by a boolean of
 * `TAPPED` (`if (TAPPED.decode) taps.offer(...)`), so the per-record path with no client is one
 * property read and a not-taken branch. The flags change only when a client comes or goes.
 */

export const TAP_POINTS = ['decode', 'transform', 'partials', 'samples', 'dead-letters'] as const;
export type TapPoint = (typeof TAP_POINTS)[number];

/** Per point, true while at least one client taps it in any pipeline: what the runtime's hooks test. */
export const TAPPED: Record<TapPoint, boolean> = { decode: false, transform: false, partials: false, samples: false, 'dead-letters': false };

/** Builds an event's (redacted) view from what the hook offered; called only for the events a client takes. */
export type TapView<T> = (item: T) => unknown;

export interface TapFilter {
  readonly pipeline: string;
  readonly point: TapPoint;
  /** Only events of this tenant (points that know the tenant: transform, partials, samples). */
  readonly tenant?: string;
  /** At most this many events per second reach the client; the rest are counted as skipped. */
  readonly perSecond: number;
}

export interface TapSubscription {
  /** Stops the subscription; the point's flag drops when it was the last one. Idempotent. */
  close(): void;
}

/** Receives a sampled event (already built by its `view`) and how many were skipped before it. */
export type TapListener = (event: unknown, skipped: number) => void;

interface Subscriber {
  readonly filter: TapFilter;
  readonly listener: TapListener;
  windowStart: number;
  taken: number;
  skipped: number;
}

export class TapHub {
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly flags: Record<TapPoint, boolean> = TAPPED,
    private readonly now: () => number = Date.now,
  ) {}

  subscribe(filter: TapFilter, listener: TapListener): TapSubscription {
    const subscriber: Subscriber = { filter, listener, windowStart: this.now(), taken: 0, skipped: 0 };
    this.subscribers.add(subscriber);
    this.flags[filter.point] = true;
    return {
      close: () => {
        if (!this.subscribers.delete(subscriber)) return;
        this.flags[filter.point] = [...this.subscribers].some((s) => s.filter.point === filter.point);
      },
    };
  }

  /**
   * True when a client taps `point` of `pipeline`: a hook's helper asks once per message or
   * batch, so a client on another pipeline or point costs the others one loop over the clients.
   */
  wants(point: TapPoint, pipeline: string): boolean {
    for (const { filter } of this.subscribers) if (filter.point === point && filter.pipeline === pipeline) return true;
    return false;
  }

  /**
   * Offers one item; `view` (a function shared by all items, so an offer allocates nothing) runs
   * only for the clients that take it. A client's listener that throws does not reach the pipeline.
   */
  offer<T>(point: TapPoint, pipeline: string, tenant: string | undefined, item: T, build: TapView<T>): void {
    let view: unknown;
    let now = 0;
    for (const subscriber of this.subscribers) {
      const { filter } = subscriber;
      if (filter.point !== point || filter.pipeline !== pipeline) continue;
      if (filter.tenant !== undefined && filter.tenant !== tenant) continue;
      now ||= this.now();
      if (now - subscriber.windowStart >= 1_000) {
        subscriber.windowStart = now;
        subscriber.taken = 0;
      }
      if (subscriber.taken >= filter.perSecond) {
        subscriber.skipped++;
        continue;
      }
      subscriber.taken++;
      view ??= build(item);
      const skipped = subscriber.skipped;
      subscriber.skipped = 0;
      try {
        subscriber.listener(view, skipped);
      } catch {
        // a broken client connection is the HTTP handler's business, never the pipeline's
      }
    }
  }
}

/** The process' hub: the runtime offers to it, the telemetry server subscribes clients to it. */
export const taps = new TapHub();
