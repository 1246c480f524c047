import type { Sample } from '../core/types.ts';

/** What the runtime needs from an output: route a tenant's samples, and learn when they are settled. */
export interface SampleSink {
  /**
   * Queues samples for one tenant; never blocks and never throws for delivery problems.
   * `onSettled` runs once, when every sample of this write was acknowledged or given up on.
   */
  write(tenant: string, samples: readonly Sample[], onSettled?: () => void): void;
  /** Resolves when everything written before the call was acknowledged or given up on. */
  flush(): Promise<void>;
  /** As MetricSink.expedite: send what is queued for `tenant` now, not after `max_delay`. */
  expedite?(tenant: string): void;
  close(): Promise<void>;
}
