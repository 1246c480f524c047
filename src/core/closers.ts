/** Closes one resource; a rejection is reported, never swallowed. */
export type Closer = () => Promise<void>;

/**
 * The close functions of the resources a component opened, closed together once. A resource
 * registered after closeAll() (a connect that was still in flight) is closed at once, so a late
 * producer or consumer can never keep the process alive after shutdown.
 */
export class Closers {
  private readonly pending: Closer[] = [];
  private closed = false;

  constructor(private readonly onError: (error: unknown) => void) {}

  get isClosed(): boolean {
    return this.closed;
  }

  push(close: Closer): void {
    if (this.closed) void this.run([close]);
    else this.pending.push(close);
  }

  /** Forgets a resource closed on its own (a producer re-created after a failure). */
  remove(close: Closer): void {
    const index = this.pending.indexOf(close);
    if (index >= 0) this.pending.splice(index, 1);
  }

  /** Runs every close function concurrently; waits for all, reports each failure. */
  async closeAll(): Promise<void> {
    this.closed = true;
    await this.run(this.pending.splice(0));
  }

  private async run(closers: readonly Closer[]): Promise<void> {
    const results = await Promise.allSettled(closers.map((close) => close()));
    for (const result of results) if (result.status === 'rejected') this.onError(result.reason);
  }
}
