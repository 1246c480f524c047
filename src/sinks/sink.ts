import type { Sample } from '../core/types.ts';

/** What the runtime needs from an output: route a tenant's samples, and wait until handed off. */
export interface SampleSink {
  /** Queues samples for one tenant; never blocks and never throws for delivery problems. */
  write(tenant: string, samples: readonly Sample[]): void;
  /** Resolves when everything written before the call was acknowledged or given up on. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
