import type { Cancel, Scheduler } from '../../src/runtime/scheduler.ts';

interface Timer {
  readonly id: number;
  /** The scope (a process) that set it; a killed scope's timers never fire. */
  readonly scope: number;
  due: number;
  /** Repeats this often; undefined for a one-shot sleep. */
  readonly intervalMs: number | undefined;
  readonly fire: () => void;
}

/**
 * A Scheduler whose time moves only when the test says so (Kafka Streams' TopologyTestDriver
 * `advanceWallClockTime`). `advance` fires every timer that falls due, in due order, and lets
 * the promise chains each one starts run to their next real wait before the next fires.
 * Jitter is fixed (`random` returns 0.5), so backoffs are reproducible.
 */
export class ManualScheduler implements Scheduler {
  private time: number;
  private nextId = 0;
  private readonly timers: Map<number, Timer>;
  private readonly scopeId: number;

  constructor(startMs: number, shared?: { timers: Map<number, Timer>; scopeId: number; clock: ManualScheduler }) {
    this.time = startMs;
    this.timers = shared?.timers ?? new Map();
    this.scopeId = shared?.scopeId ?? 0;
    if (shared) this.root = shared.clock;
  }

  private root: ManualScheduler = this;

  /**
   * A scheduler on the same time whose timers `kill` drops at once: one process of several, so a
   * test can crash it (its timers and sleeps never fire again).
   */
  scope(): ManualScheduler & { kill(): void } {
    const scopeId = this.root.nextId++;
    const scoped = new ManualScheduler(0, { timers: this.timers, scopeId, clock: this.root });
    return Object.assign(scoped, {
      kill: () => {
        for (const [id, timer] of this.timers) if (timer.scope === scopeId) this.timers.delete(id);
      },
    });
  }

  now = (): number => this.root.time;

  random = (): number => 0.5;

  schedule(intervalMs: number, job: () => void): Cancel {
    const id = this.root.nextId++;
    this.timers.set(id, { id, scope: this.scopeId, due: this.root.time + intervalMs, intervalMs, fire: job });
    return () => this.timers.delete(id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const id = this.root.nextId++;
      const done = () => {
        this.timers.delete(id);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.timers.set(id, { id, scope: this.scopeId, due: this.root.time + ms, intervalMs: undefined, fire: done });
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Moves time forward by `ms`, firing what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    // Bounded: a timer re-scheduling itself at its own due time cannot spin forever.
    for (let fired = 0; fired < 100_000; fired++) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.time = Math.max(this.time, next.due);
      if (next.intervalMs === undefined) this.timers.delete(next.id);
      else next.due += Math.max(1, next.intervalMs);
      next.fire();
      await settle();
    }
    this.time = target;
    await settle();
  }

  /** Timers waiting (scheduled jobs and sleeps). */
  get pending(): number {
    return this.timers.size;
  }

  private earliest(): Timer | undefined {
    let first: Timer | undefined;
    for (const timer of this.timers.values()) if (!first || timer.due < first.due || (timer.due === first.due && timer.id < first.id)) first = timer;
    return first;
  }
}

/**
 * Lets every promise chain started so far run until it waits on something not yet due. One
 * macrotask turn drains the whole microtask queue; a few more cover chains that hop through one.
 */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
